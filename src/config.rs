//! Configuration: `connlint.toml`, or the `[tool.connlint]` table of `pyproject.toml`.
//!
//! The file is found by walking up from the current directory (the first `connlint.toml`, or
//! `pyproject.toml` with a `[tool.connlint]` table, wins; `connlint.toml` wins over a
//! `pyproject.toml` in the same folder); `--config FILE` names it instead. Keys:
//!
//! ```toml
//! select = ["CL001", "connection-leaked-on-exception"]  # replaces the default rule set
//! ignore = ["CL008"]                                     # removed from it
//! exclude = ["migrations", "tests/fixtures/**"]          # paths not walked
//! ```
//!
//! An `exclude` pattern without a `/` (a trailing one aside) matches a file or folder name
//! anywhere (`migrations`, `build/`, `*_pb2.py`); one that starts with `/` or `./` or has a `/`
//! inside matches the path relative to the configuration file's folder (`tests/fixtures/**`,
//! `/build`). Files named on the command line are always checked.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use connlint_rules::{Selection, SelectionError};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

/// The configuration in force for one run.
#[derive(Debug, Default)]
pub(crate) struct Config {
    select: Option<Vec<String>>,
    ignore: Vec<String>,
    pub exclude: Exclude,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum ConfigError {
    #[error("cannot read the configuration file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{location}: {message}")]
    Invalid {
        /// The path, and the line when it is known: `connlint.toml, line 3`.
        location: String,
        message: String,
        #[source_code]
        src: Arc<NamedSource<String>>,
        #[label]
        span: Option<SourceSpan>,
    },
}

/// The keys of `connlint.toml` and `[tool.connlint]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
}

/// A `pyproject.toml`: everything but `[tool.connlint]` belongs to other tools.
#[derive(Debug, Deserialize)]
struct Pyproject {
    tool: Option<Tools>,
}

#[derive(Debug, Deserialize)]
struct Tools {
    connlint: Option<Options>,
}

impl Config {
    /// The rules to run: the command line's `--select` replaces the configured set, its
    /// `--ignore` removes from whatever set is in force.
    pub fn selection(
        &self,
        cli_select: Option<&[String]>,
        cli_ignore: &[String],
    ) -> Result<Selection, SelectionError> {
        let cli_select: Option<Vec<&str>> = cli_select.map(|list| {
            list.iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect()
        });
        let cli_ignore = cli_ignore
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        match cli_select {
            Some(select) => Selection::from_lists(Some(&select), &cli_ignore.collect::<Vec<_>>()),
            None => {
                let select: Option<Vec<&str>> = self
                    .select
                    .as_ref()
                    .map(|list| list.iter().map(String::as_str).collect());
                let ignore: Vec<&str> = self
                    .ignore
                    .iter()
                    .map(String::as_str)
                    .chain(cli_ignore)
                    .collect();
                Selection::from_lists(select.as_deref(), &ignore)
            }
        }
    }
}

/// Reads the configuration named by `--config`, or the first one found walking up from `cwd`.
pub(crate) fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Config, ConfigError> {
    if let Some(path) = explicit {
        let text = read(path)?;
        let options = if is_pyproject(path) {
            parse_pyproject(path, &text)?.unwrap_or_default()
        } else {
            parse(path, &text)?
        };
        return build(path, cwd, &text, options);
    }
    for dir in cwd.ancestors() {
        // Shown relative when it sits in the current directory, absolute otherwise.
        let at = |name: &str| {
            if dir == cwd {
                PathBuf::from(name)
            } else {
                dir.join(name)
            }
        };
        let path = at("connlint.toml");
        if path.is_file() {
            let text = read(&path)?;
            let options = parse(&path, &text)?;
            return build(&path, cwd, &text, options);
        }
        let path = at("pyproject.toml");
        // Ex) a pyproject.toml for other tools only: not parsed, so its mistakes are not ours.
        if path.is_file() {
            let text = read(&path)?;
            if !text.contains("connlint") {
                continue;
            }
            if let Some(options) = parse_pyproject(&path, &text)? {
                return build(&path, cwd, &text, options);
            }
        }
    }
    Ok(Config::default())
}

fn is_pyproject(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "pyproject.toml")
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parse(path: &Path, text: &str) -> Result<Options, ConfigError> {
    toml::from_str(text).map_err(|err| toml_error(path, text, &err))
}

fn parse_pyproject(path: &Path, text: &str) -> Result<Option<Options>, ConfigError> {
    let doc: Pyproject = toml::from_str(text).map_err(|err| toml_error(path, text, &err))?;
    Ok(doc.tool.and_then(|t| t.connlint))
}

fn toml_error(path: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    invalid(path, text, err.span(), err.message().trim_end().to_string())
}

fn invalid(
    path: &Path,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    message: String,
) -> ConfigError {
    let location = match &span {
        Some(range) => {
            let start = range.start.min(text.len());
            let line = text.as_bytes()[..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!("{}, line {line}", path.display())
        }
        None => path.display().to_string(),
    };
    ConfigError::Invalid {
        location,
        message,
        src: Arc::new(NamedSource::new(
            path.display().to_string(),
            text.to_string(),
        )),
        span: span.map(|r| {
            let start = r.start.min(text.len());
            SourceSpan::from(start..r.end.clamp(start, text.len()))
        }),
    }
}

fn build(path: &Path, cwd: &Path, text: &str, options: Options) -> Result<Config, ConfigError> {
    // Unknown rules are reported at their entry in the file, not later as a bare code.
    for entry in options.select.iter().chain(options.ignore.iter()).flatten() {
        if let Err(err) = Selection::from_lists(Some(&[entry.get_ref().as_str()]), &[]) {
            return Err(invalid(path, text, Some(entry.span()), err.to_string()));
        }
    }
    let root = absolute(cwd, path.parent().unwrap_or(Path::new("")));
    let patterns = options.exclude.unwrap_or_default();
    let exclude = Exclude::new(root, &patterns)
        .map_err(|(i, message)| invalid(path, text, patterns.get(i).map(Spanned::span), message))?;
    let strings = |list: Option<Vec<Spanned<String>>>| -> Vec<String> {
        list.unwrap_or_default()
            .into_iter()
            .map(Spanned::into_inner)
            .collect()
    };
    Ok(Config {
        select: options.select.map(|list| strings(Some(list))),
        ignore: strings(options.ignore),
        exclude,
    })
}

/// The configuration's `exclude` patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Exclude {
    /// The configuration file's folder, absolute.
    root: PathBuf,
    /// Patterns without a `/`: matched against a file or folder name.
    names: GlobSet,
    /// Patterns with a `/`: matched against the path relative to `root`.
    paths: GlobSet,
}

impl Exclude {
    /// Compiles the patterns; on failure, the index of the bad one and why.
    fn new(root: PathBuf, patterns: &[Spanned<String>]) -> Result<Exclude, (usize, String)> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for (i, pattern) in patterns.iter().enumerate() {
            let raw = pattern.get_ref().trim();
            let trimmed = raw
                .trim_start_matches("./")
                .trim_start_matches('/')
                .trim_end_matches('/');
            if trimmed.is_empty() {
                return Err((i, format!("`{raw}` in `exclude` matches nothing")));
            }
            let glob = GlobBuilder::new(trimmed)
                .literal_separator(true)
                .build()
                .map_err(|e| {
                    (
                        i,
                        format!("`{raw}` in `exclude` is not a valid glob: {}", e.kind()),
                    )
                })?;
            // Anchored like a gitignore line: a leading `/` or `./`, or a `/` inside.
            if raw.starts_with('/') || raw.starts_with("./") || trimmed.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        let names = names.build().map_err(|e| (0, e.to_string()))?;
        let paths = paths.build().map_err(|e| (0, e.to_string()))?;
        Ok(Exclude { root, names, paths })
    }

    /// Whether `path` (absolute, see [`absolute`]) is excluded.
    pub fn is_excluded(&self, path: &Path) -> bool {
        if self.names.is_empty() && self.paths.is_empty() {
            return false;
        }
        if path
            .file_name()
            .is_some_and(|name| self.names.is_match(name))
        {
            return true;
        }
        path.strip_prefix(&self.root)
            .is_ok_and(|rel| self.paths.is_match(rel))
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.paths.is_empty()
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved lexically.
pub(crate) fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in cwd.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spanned(list: &[&str]) -> Vec<Spanned<String>> {
        let text = format!(
            "exclude = [{}]",
            list.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        toml::from_str::<Options>(&text).unwrap().exclude.unwrap()
    }

    #[test]
    fn exclude_matches_names_anywhere_and_paths_from_the_root() {
        let ex = Exclude::new(
            PathBuf::from("/p"),
            &spanned(&["migrations", "*_pb2.py", "tests/fixtures/**", "./build/"]),
        )
        .unwrap();
        assert!(ex.is_excluded(Path::new("/p/app/migrations")));
        assert!(ex.is_excluded(Path::new("/p/app/x_pb2.py")));
        assert!(ex.is_excluded(Path::new("/p/tests/fixtures/a/b.py")));
        assert!(ex.is_excluded(Path::new("/p/build")));
        assert!(!ex.is_excluded(Path::new("/p/app/build")));
        assert!(!ex.is_excluded(Path::new("/p/tests/test_x.py")));
        assert!(!ex.is_excluded(Path::new("/elsewhere/tests/fixtures/a.py")));
    }

    #[test]
    fn absolute_resolves_dots_lexically() {
        assert_eq!(
            absolute(Path::new("/a/b"), Path::new("./c/../d")),
            PathBuf::from("/a/b/d")
        );
        assert_eq!(
            absolute(Path::new("/a/b"), Path::new("/x/./y")),
            PathBuf::from("/x/y")
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = parse(
            Path::new("connlint.toml"),
            "select = [\"CL001\"]\nselec = 1\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("connlint.toml, line 2: unknown field `selec`"),
            "{err}"
        );
        let opts = parse(Path::new("connlint.toml"), "ignore = [\"CL999\"]\n").unwrap();
        let err = build(
            Path::new("connlint.toml"),
            Path::new("/"),
            "ignore = [\"CL999\"]\n",
            opts,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "connlint.toml, line 1: unknown rule `CL999` (see `connlint rule --all`)"
        );
    }
}
