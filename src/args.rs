//! The command line, declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Finds database-connection leaks and connection-pool misuse in Python code.
#[derive(Debug, Parser)]
#[command(name = "connlint", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check files and directories; exit 0 (no findings), 1 (findings) or 2 (error).
    Check(CheckArgs),
    /// Print a rule's documentation, or list every rule.
    Rule(RuleArgs),
    /// Print the configuration in force here, and where each value comes from.
    Config(ConfigArgs),
    /// Run the language server on standard input and output (for editors).
    Server(ServerArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Files or directories to check (default: the current directory). Directories are walked
    /// honouring .gitignore and .ignore; files named here are always checked.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format, to stdout. With `human`, problems and the summary go to stderr.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Run only these rules (codes, names, prefixes such as CL00, or ALL); comma-separated or
    /// repeated. Replaces the configuration's `select`.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub select: Option<Vec<String>>,

    /// Also run these rules (such as CL012, off by default), on top of the selection in force;
    /// comma-separated or repeated.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub extend_select: Vec<String>,

    /// Do not run these rules (codes, names, prefixes, ALL); comma-separated or repeated.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Read the configuration from this file (connlint.toml, or a pyproject.toml with a
    /// [tool.connlint] table) instead of searching upward from the first checked path.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read the source from standard input and report it under this name.
    #[arg(long, value_name = "NAME", conflicts_with = "paths")]
    pub stdin_filename: Option<String>,

    /// Exit with 2 when a file could not be analysed (syntax error, binary, not UTF-8, too
    /// large, unreadable).
    #[arg(long)]
    pub strict: bool,

    /// Do not honour .gitignore, .ignore and git's exclude files.
    #[arg(long)]
    pub no_ignore: bool,

    /// Report only findings that are not in this baseline file (written by --write-baseline).
    /// Entries that no longer match are counted in the summary.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,

    /// Record every finding of this run in a baseline file instead of reporting them, and exit 0
    /// (2 if the file cannot be written).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Also report `# connlint: ignore` comments that silence nothing (code
    /// `unused-suppression`, a warning that counts as a finding).
    #[arg(long)]
    pub report_unused_suppressions: bool,

    /// Parse every file, not only those whose text can matter (same findings; also reports
    /// syntax errors in files that could not hold a finding).
    #[arg(long)]
    pub no_prefilter: bool,

    /// Do not read or write the analysis cache (every file is analysed afresh).
    #[arg(long)]
    pub no_cache: bool,

    /// Keep the analysis cache in this folder (default: `.connlint_cache` beside the
    /// configuration file, or in the current directory).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,

    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Source snippets with labels, for people.
    Human,
    /// One JSON document with the findings, the problems and the number of files checked.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps and other SARIF viewers).
    Sarif,
    /// GitHub Actions workflow commands: one annotation per finding and problem.
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

/// `connlint server` takes no options: the editor's workspace folders and their configuration
/// files say what to analyse.
#[derive(Debug, Args)]
pub(crate) struct ServerArgs {}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// Read this configuration file instead of searching upward from the current directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RuleArgs {
    /// The rule's code or name, e.g. CL001 or connection-not-released. Without it, every rule
    /// is listed.
    #[arg(value_name = "CODE", conflicts_with = "all")]
    pub code: Option<String>,

    /// List every rule, one line each: code, name, severity, on/off by default, summary.
    #[arg(long)]
    pub all: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
