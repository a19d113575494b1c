//! connlint's command-line front end: it owns the command line ([`args`]), reading the
//! configuration, walking and reading files, the output formats ([`render`], the only module
//! that knows them) and the exit codes: 0 no findings, 1 findings, 2 usage, configuration or
//! I/O errors (and, with `--strict`, files that could not be analysed).
//!
//! It does no analysis of its own: every file goes through the same pure
//! `connlint_analyzer::analyze` and `connlint_rules::check` that the language server calls, so
//! the terminal, CI and the editor see the same findings. Nothing a file or a configuration
//! contains may panic here; errors are reported once on stderr with miette.

mod args;
mod commands;
mod config;
pub mod render;
mod report;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, ColorChoice, Command};

/// How a run of connlint ended; converts to the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: nothing found.
    Success,
    /// 1: findings were reported.
    Findings,
    /// 2: a usage, configuration or I/O error (or, with `--strict`, a file that could not be
    /// analysed).
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Findings => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

/// Parses the command line, runs the subcommand and reports any error on stderr.
pub fn run() -> ExitStatus {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` are not errors; clap's exit code says which it is
            // (2 for usage errors).
            let _ = err.print();
            return if err.exit_code() == 0 {
                ExitStatus::Success
            } else {
                ExitStatus::Error
            };
        }
    };
    let color = match &cli.command {
        Command::Check(args) => args.color,
        Command::Rule(_) => ColorChoice::Auto,
    };
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Rule(args) => commands::rule::run(args),
    };
    match result {
        Ok(status) => status,
        Err(report) => {
            let text =
                render::human::render_error(report.as_ref(), color.enabled(&std::io::stderr()));
            let _ = std::io::stderr().write_all(text.as_bytes());
            ExitStatus::Error
        }
    }
}

impl ColorChoice {
    /// Whether to colour what goes to `stream`: always, never, or when it is a terminal and
    /// `NO_COLOR` is not set.
    pub(crate) fn enabled(self, stream: &impl IsTerminal) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}
