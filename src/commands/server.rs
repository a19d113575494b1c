//! `connlint server`: the language server on standard input and output (`connlint_lsp`).
//!
//! The server crate knows nothing of the command line; this hands it the configuration and the
//! file walk of `check`, so that the editor analyses the files `connlint check` would, with the
//! same rules, declarations, `exclude` and `per-file-ignores`.

use std::path::Path;

use connlint_lsp::{Host, Workspace};
use rayon::prelude::*;

use super::check::{read_source, source_files};
use crate::args::ServerArgs;
use crate::config::{self, absolute};
use crate::ExitStatus;

pub(crate) fn run(_args: &ServerArgs) -> miette::Result<ExitStatus> {
    // The specification's exit codes: 0 after `shutdown`, 1 when the client went away or said
    // `exit` without it.
    Ok(match connlint_lsp::run_stdio(&CliHost) {
        0 => ExitStatus::Success,
        _ => ExitStatus::Findings,
    })
}

struct CliHost;

impl Host for CliHost {
    fn load(&self, root: &Path, walk: bool) -> Workspace {
        let (config, config_error) = match config::load(None, root) {
            Ok(config) => (config, None),
            Err(err) => (config::Config::default(), Some(err.to_string())),
        };
        let (selection, config_error) = match config.selection(None, &[], &[]) {
            Ok(selection) => (selection, config_error),
            Err(err) => (Default::default(), config_error.or(Some(err.to_string()))),
        };
        let files = if walk {
            // Problems of the walk (unreadable folders, symlink loops) are left to `check`.
            let (paths, _) = source_files(root, &config);
            paths
                .into_par_iter()
                .map(|path| {
                    let path = absolute(root, &path);
                    let text = read_source(&path);
                    (path, text)
                })
                .collect()
        } else {
            Vec::new()
        };
        let config::Config {
            exclude,
            per_file_ignores,
            declared,
            ..
        } = config;
        Workspace {
            selection,
            declared,
            limits: config.limits.clone(),
            files,
            config_error,
            ignores: Box::new(move |path, code| per_file_ignores.ignores(path, code)),
            excluded: Box::new(move |path| exclude.is_excluded(path)),
        }
    }

    fn read(&self, path: &Path) -> Result<String, String> {
        read_source(path)
    }
}
