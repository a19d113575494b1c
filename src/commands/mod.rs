//! The subcommands, and the errors they report (once, with miette, exit code 2).

pub(crate) mod check;
pub(crate) mod config;
pub(crate) mod rule;
pub(crate) mod server;

use std::io;

use connlint_rules::SelectionError;

use crate::baseline::BaselineError;
use crate::config::ConfigError;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum CliError {
    #[error("{0}: no such file or directory")]
    MissingPath(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Selection(#[from] SelectionError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error("cannot read standard input")]
    Stdin(#[source] io::Error),
    #[error("cannot write the output")]
    Output(#[source] io::Error),
    #[error("cannot determine the current directory")]
    CurrentDir(#[source] io::Error),
    #[error("cannot start the analysis threads: {0}")]
    ThreadPool(String),
}

/// The result of writing to stdout. A reader that went away (`connlint check | head`) is not an
/// error: there is nobody left to tell, so the run ends quietly.
pub(crate) fn stdout_result(result: io::Result<()>) -> Result<Written, CliError> {
    match result {
        Ok(()) => Ok(Written::All),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(Written::PipeClosed),
        Err(err) => Err(CliError::Output(err)),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Written {
    All,
    PipeClosed,
}
