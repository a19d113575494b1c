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
mod baseline;
mod cache;
mod commands;
mod config;
mod fingerprint;
pub mod render;
mod report;

use std::ffi::OsString;
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

/// Parses the command line, runs the subcommand and reports any error on stderr. Meant as the
/// body of a process's `main`: `check` leaves its report for the OS to take back at exit.
pub fn run() -> ExitStatus {
    run_with(std::env::args_os())
}

/// `cargo connlint [ARGS]`: cargo runs `cargo-connlint connlint [ARGS]`. Behaves as
/// `connlint check [ARGS]`, or as `connlint ARGS` when the first argument is a subcommand
/// (`check`, `rule`, `help`) or `--version`.
pub fn run_cargo() -> ExitStatus {
    run_with(cargo_args(std::env::args_os()))
}

/// The `connlint` command line that `cargo-connlint`'s arguments stand for.
fn cargo_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut rest: Vec<OsString> = args.into_iter().skip(1).collect();
    // Ex) `cargo-connlint check` run directly, without cargo in between.
    if rest.first().is_some_and(|a| a == "connlint") {
        rest.remove(0);
    }
    let mut out = vec![OsString::from("cargo connlint")];
    let passes_through = rest
        .first()
        .and_then(|a| a.to_str())
        .is_some_and(|a| matches!(a, "check" | "rule" | "help" | "--version" | "-V"));
    if !passes_through {
        out.push(OsString::from("check"));
    }
    out.extend(rest);
    out
}

fn run_with(args: impl IntoIterator<Item = OsString>) -> ExitStatus {
    let cli = match Cli::try_parse_from(args) {
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
        Command::Rule(_) | Command::Config(_) | Command::Server(_) => ColorChoice::Auto,
    };
    let result = match &cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Rule(args) => commands::rule::run(args),
        Command::Config(args) => commands::config::run(args),
        Command::Server(args) => commands::server::run(args),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cargo(args: &[&str]) -> Vec<String> {
        cargo_args(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn cargo_connlint_means_connlint_check_unless_a_subcommand_is_named() {
        let bin = "/home/u/.cargo/bin/cargo-connlint";
        assert_eq!(cargo(&[bin, "connlint"]), ["cargo connlint", "check"]);
        assert_eq!(
            cargo(&[bin, "connlint", "--format", "json", "src"]),
            ["cargo connlint", "check", "--format", "json", "src"]
        );
        assert_eq!(
            cargo(&[bin, "connlint", "rule", "CL001"]),
            ["cargo connlint", "rule", "CL001"]
        );
        assert_eq!(
            cargo(&[bin, "connlint", "--version"]),
            ["cargo connlint", "--version"]
        );
        // Run directly, without cargo's extra argument.
        assert_eq!(
            cargo(&[bin, "app.py"]),
            ["cargo connlint", "check", "app.py"]
        );
    }
}
