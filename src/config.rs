//! Configuration: `connlint.toml`, the `[tool.connlint]` table of `pyproject.toml`, or the
//! `[package.metadata.connlint]` / `[workspace.metadata.connlint]` table of `Cargo.toml`.
//!
//! The file is found by walking up from the current directory: the first folder that has one
//! wins, and within a folder `connlint.toml` comes first, then `pyproject.toml`, then
//! `Cargo.toml`. A `pyproject.toml` or `Cargo.toml` without the table is not a configuration and
//! the search goes on. `--config FILE` names the file instead. Keys:
//!
//! ```toml
//! select = ["CL001", "connection-leaked-on-exception"]  # replaces the default rule set
//! ignore = ["CL008"]                                     # removed from it
//! exclude = ["migrations", "tests/fixtures/**"]          # paths not walked
//!
//! [per-file-ignores]                                     # rules not reported in some files
//! "tests/**" = ["CL001", "CL002"]
//! "conftest.py" = ["ALL"]
//! ```
//!
//! An `exclude` or `per-file-ignores` pattern without a `/` (a trailing one aside) matches a
//! file or folder name anywhere (`migrations`, `build/`, `*_pb2.py`); one that starts with `/`
//! or `./` or has a `/` inside matches the path relative to the configuration file's folder
//! (`tests/fixtures/**`, `/build`). A pattern that matches a folder covers everything in it.
//! Files named on the command line are always checked, and `per-file-ignores` applies to them
//! too.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use connlint_rules::{Selection, SelectionError};
use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

/// The configuration in force for one run.
#[derive(Debug, Default)]
pub(crate) struct Config {
    select: Option<Vec<String>>,
    extend_select: Vec<String>,
    ignore: Vec<String>,
    pub exclude: Exclude,
    pub per_file_ignores: PerFileIgnores,
    /// `[functions]`: acquire/release functions of code connlint does not model.
    pub declared: connlint_analyzer::Declarations,
    /// The folder of the configuration file, when there is one.
    pub root: Option<PathBuf>,
    /// `cache-dir`, resolved against the configuration file's folder.
    pub cache_dir: Option<PathBuf>,
    /// `max-pool-size` and `[budget]`.
    pub limits: connlint_rules::Limits,
    /// The configuration file, as shown to the user, when there is one.
    pub source: Option<String>,
    /// The keys the file sets (`budget.processes`), with their values as TOML, for
    /// `connlint config`.
    pub from_file: BTreeMap<String, String>,
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

/// The keys of `connlint.toml`, `[tool.connlint]` and `[*.metadata.connlint]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    select: Option<Vec<Spanned<String>>>,
    #[serde(rename = "extend-select")]
    extend_select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
    #[serde(rename = "per-file-ignores")]
    per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
    functions: Option<Functions>,
    #[serde(rename = "cache-dir")]
    cache_dir: Option<Spanned<String>>,
    #[serde(rename = "max-pool-size")]
    max_pool_size: Option<Spanned<i64>>,
    budget: Option<Budget>,
}

/// `[budget]`: the connection arithmetic of CL011.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Budget {
    #[serde(rename = "max-connections")]
    max_connections: Option<Spanned<i64>>,
    processes: Option<Spanned<i64>>,
    multiplicity: Option<BTreeMap<String, Spanned<i64>>>,
}

/// `[functions]`: `acquire = ["vendor.db.borrow", ".take"]`, `release = [...]`,
/// `slow-await = ["myapp.http.fetch", ".call_remote"]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Functions {
    acquire: Option<Vec<Spanned<String>>>,
    release: Option<Vec<Spanned<String>>>,
    #[serde(rename = "slow-await")]
    slow_await: Option<Vec<Spanned<String>>>,
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

/// A `Cargo.toml`: only `[package.metadata.connlint]` and `[workspace.metadata.connlint]`.
#[derive(Debug, Deserialize)]
struct CargoManifest {
    package: Option<CargoSection>,
    workspace: Option<CargoSection>,
}

#[derive(Debug, Deserialize)]
struct CargoSection {
    metadata: Option<CargoMetadata>,
}

#[derive(Debug, Deserialize)]
struct CargoMetadata {
    connlint: Option<Spanned<Options>>,
}

/// Which kind of file holds the configuration, by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Connlint,
    Pyproject,
    Cargo,
}

impl Kind {
    fn of(path: &Path) -> Kind {
        match path.file_name().and_then(|n| n.to_str()) {
            Some("pyproject.toml") => Kind::Pyproject,
            Some("Cargo.toml") => Kind::Cargo,
            _ => Kind::Connlint,
        }
    }
}

impl Config {
    /// The rules to run: the command line's `--select` replaces the configured set, its
    /// `--ignore` removes from whatever set is in force.
    /// The rules to run: the command line's `--select` replaces the configuration's `select`
    /// and `extend-select`; `--extend-select` adds to whichever set is in force; `ignore`s
    /// (the file's and the command line's) are taken out last.
    pub fn selection(
        &self,
        cli_select: Option<&[String]>,
        cli_extend: &[String],
        cli_ignore: &[String],
    ) -> Result<Selection, SelectionError> {
        let clean = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let cli_ignore = clean(cli_ignore);
        let chosen = match cli_select {
            Some(select) => Selection::from_lists(Some(&clean(select)), &[] as &[String])?,
            None => Selection::from_lists(self.select.as_deref(), &[] as &[String])?
                .extend(&self.extend_select)?,
        }
        .extend(&clean(cli_extend))?;
        let ignore: Vec<String> = match cli_select {
            Some(_) => cli_ignore,
            None => self.ignore.iter().cloned().chain(cli_ignore).collect(),
        };
        let codes: Vec<String> = chosen.codes().iter().map(|c| c.to_string()).collect();
        Selection::from_lists(Some(&codes), &ignore)
    }
}

/// Reads the configuration named by `--config`, or the first one found walking up from `cwd`.
pub(crate) fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Config, ConfigError> {
    load_from(explicit, cwd, cwd)
}

/// Reads the configuration named by `--config`, or the first one found walking up from
/// `start` (the folder of the first checked path).
pub(crate) fn load_from(
    explicit: Option<&Path>,
    start: &Path,
    cwd: &Path,
) -> Result<Config, ConfigError> {
    if let Some(path) = explicit {
        let text = read(path)?;
        let options = parse_any(Kind::of(path), path, &text)?.unwrap_or_default();
        return build(path, cwd, &text, options);
    }
    for dir in start.ancestors() {
        for name in ["connlint.toml", "pyproject.toml", "Cargo.toml"] {
            // Shown relative when it sits in or under the current directory, absolute otherwise.
            let path = match dir.strip_prefix(cwd) {
                Ok(rel) => rel.join(name),
                Err(_) => dir.join(name),
            };
            if !path.is_file() {
                continue;
            }
            let text = read(&path)?;
            let kind = Kind::of(&path);
            // Ex) a pyproject.toml or Cargo.toml for other tools only: not parsed, so its
            // mistakes are not ours.
            if kind != Kind::Connlint && !text.contains("connlint") {
                continue;
            }
            if let Some(options) = parse_any(kind, &path, &text)? {
                return build(&path, cwd, &text, options);
            }
        }
    }
    Ok(Config::default())
}

/// The options in a file of that kind; `None` when a pyproject.toml or Cargo.toml has no
/// connlint table.
fn parse_any(kind: Kind, path: &Path, text: &str) -> Result<Option<Options>, ConfigError> {
    match kind {
        Kind::Connlint => parse(path, text).map(Some),
        Kind::Pyproject => parse_pyproject(path, text),
        Kind::Cargo => parse_cargo(path, text),
    }
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

fn parse_cargo(path: &Path, text: &str) -> Result<Option<Options>, ConfigError> {
    let doc: CargoManifest = toml::from_str(text).map_err(|err| toml_error(path, text, &err))?;
    let table = |section: Option<CargoSection>| section.and_then(|s| s.metadata?.connlint);
    match (table(doc.package), table(doc.workspace)) {
        (Some(_), Some(workspace)) => Err(invalid(
            path,
            text,
            Some(workspace.span()),
            "both [package.metadata.connlint] and [workspace.metadata.connlint] are set; keep one"
                .into(),
        )),
        (Some(options), None) | (None, Some(options)) => Ok(Some(options.into_inner())),
        (None, None) => Ok(None),
    }
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
    let per_file_codes = options
        .per_file_ignores
        .iter()
        .flatten()
        .flat_map(|(_, v)| v);
    for entry in options
        .select
        .iter()
        .chain(options.ignore.iter())
        .flatten()
        .chain(per_file_codes)
    {
        if let Err(err) = Selection::from_lists(Some(&[entry.get_ref().as_str()]), &[]) {
            return Err(invalid(path, text, Some(entry.span()), err.to_string()));
        }
    }
    let from_file = set_keys(&options);
    let root = absolute(cwd, path.parent().unwrap_or(Path::new("")));
    let patterns = options.exclude.unwrap_or_default();
    let exclude = Exclude::new(root.clone(), &patterns)
        .map_err(|(i, message)| invalid(path, text, patterns.get(i).map(Spanned::span), message))?;
    let per_file_ignores =
        PerFileIgnores::new(root.clone(), options.per_file_ignores.unwrap_or_default())
            .map_err(|(span, message)| invalid(path, text, Some(span), message))?;
    let functions = options.functions.unwrap_or_default();
    for entry in functions
        .acquire
        .iter()
        .chain(functions.release.iter())
        .chain(functions.slow_await.iter())
        .flatten()
    {
        let name = entry.get_ref().trim();
        // Rust paths may be written with `::` (`slow-await = ["crate::http::fetch"]`).
        let dotted = name.replace("::", ".");
        let body = dotted.strip_prefix('.').unwrap_or(&dotted);
        let valid = !body.is_empty()
            && body.split('.').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !part.starts_with(|c: char| c.is_ascii_digit())
            });
        if !valid {
            let message = format!(
                "`{name}` is not a function name: use a dotted path (`vendor.db.borrow`) or `.method`"
            );
            return Err(invalid(path, text, Some(entry.span()), message));
        }
    }
    if let Some(dir) = options
        .cache_dir
        .as_ref()
        .filter(|d| d.get_ref().trim().is_empty())
    {
        let message = "`cache-dir` is empty: name a folder, or pass --no-cache".to_string();
        return Err(invalid(path, text, Some(dir.span()), message));
    }
    // Counts must be positive whole numbers; the error points at the value.
    let count = |value: &Spanned<i64>, key: &str| -> Result<u64, ConfigError> {
        u64::try_from(*value.get_ref())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                invalid(
                    path,
                    text,
                    Some(value.span()),
                    format!("`{key}` must be a whole number above 0"),
                )
            })
    };
    let mut limits = connlint_rules::Limits::default();
    if let Some(v) = &options.max_pool_size {
        limits.max_pool_size = count(v, "max-pool-size")?;
    }
    if let Some(budget) = &options.budget {
        if let Some(v) = &budget.max_connections {
            limits.max_connections = count(v, "max-connections")?;
        }
        if let Some(v) = &budget.processes {
            limits.processes = count(v, "processes")?;
        }
        for (key, v) in budget.multiplicity.iter().flatten() {
            limits.multiplicity.push((key.clone(), count(v, key)?));
        }
    }
    let strings = |list: Option<Vec<Spanned<String>>>| -> Vec<String> {
        list.unwrap_or_default()
            .into_iter()
            .map(Spanned::into_inner)
            .collect()
    };
    Ok(Config {
        select: options.select.map(|list| strings(Some(list))),
        extend_select: strings(options.extend_select),
        ignore: strings(options.ignore),
        exclude,
        per_file_ignores,
        declared: connlint_analyzer::Declarations {
            acquire: strings(functions.acquire),
            release: strings(functions.release),
            slow_await: strings(functions.slow_await),
        },
        cache_dir: options.cache_dir.map(|dir| root.join(dir.into_inner())),
        root: Some(root),
        limits,
        source: Some(path.display().to_string()),
        from_file,
    })
}

/// The keys a configuration sets, with their values written as TOML.
fn set_keys(options: &Options) -> BTreeMap<String, String> {
    fn strings(list: &[Spanned<String>]) -> String {
        toml::Value::Array(
            list.iter()
                .map(|s| toml::Value::String(s.get_ref().clone()))
                .collect(),
        )
        .to_string()
    }
    let mut keys = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            keys.insert(key.to_string(), value);
        }
    };
    put("select", options.select.as_deref().map(strings));
    put(
        "extend-select",
        options.extend_select.as_deref().map(strings),
    );
    put("ignore", options.ignore.as_deref().map(strings));
    put("exclude", options.exclude.as_deref().map(strings));
    put(
        "cache-dir",
        options
            .cache_dir
            .as_ref()
            .map(|d| toml::Value::String(d.get_ref().clone()).to_string()),
    );
    put(
        "max-pool-size",
        options
            .max_pool_size
            .as_ref()
            .map(|v| v.get_ref().to_string()),
    );
    if let Some(f) = &options.functions {
        put("functions.acquire", f.acquire.as_deref().map(strings));
        put("functions.release", f.release.as_deref().map(strings));
        put("functions.slow-await", f.slow_await.as_deref().map(strings));
    }
    if let Some(b) = &options.budget {
        put(
            "budget.max-connections",
            b.max_connections.as_ref().map(|v| v.get_ref().to_string()),
        );
        put(
            "budget.processes",
            b.processes.as_ref().map(|v| v.get_ref().to_string()),
        );
        for (k, v) in b.multiplicity.iter().flatten() {
            put(
                &format!("budget.multiplicity.{}", toml::Value::String(k.clone())),
                Some(v.get_ref().to_string()),
            );
        }
    }
    for (pattern, codes) in options.per_file_ignores.iter().flatten() {
        put(
            &format!(
                "per-file-ignores.{}",
                toml::Value::String(pattern.get_ref().clone())
            ),
            Some(strings(codes)),
        );
    }
    keys
}

/// A pattern of `exclude` or `per-file-ignores`, compiled; whether it is anchored to the
/// configuration's folder (a leading `/` or `./`, or a `/` inside, like a gitignore line) or
/// matches a name anywhere. `key` names the setting in errors.
fn compile_pattern(raw: &str, key: &str) -> Result<(Glob, bool), String> {
    let raw = raw.trim();
    let trimmed = raw
        .trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(format!("`{raw}` in `{key}` matches nothing"));
    }
    let glob = GlobBuilder::new(trimmed)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("`{raw}` in `{key}` is not a valid glob: {}", e.kind()))?;
    let anchored = raw.starts_with('/') || raw.starts_with("./") || trimmed.contains('/');
    Ok((glob, anchored))
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
            let (glob, anchored) =
                compile_pattern(pattern.get_ref(), "exclude").map_err(|message| (i, message))?;
            if anchored {
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

/// The configuration's `per-file-ignores`: rules whose findings are dropped in some files.
#[derive(Clone, Debug, Default)]
pub(crate) struct PerFileIgnores {
    /// The configuration file's folder, absolute.
    root: PathBuf,
    entries: Vec<PerFileEntry>,
}

#[derive(Clone, Debug)]
struct PerFileEntry {
    matcher: GlobMatcher,
    anchored: bool,
    codes: Vec<&'static str>,
}

impl PerFileIgnores {
    /// Compiles the table; on failure, the span of the bad key and why. The codes have been
    /// checked already.
    fn new(
        root: PathBuf,
        table: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    ) -> Result<PerFileIgnores, (std::ops::Range<usize>, String)> {
        let mut entries = Vec::with_capacity(table.len());
        for (pattern, codes) in table {
            let (glob, anchored) = compile_pattern(pattern.get_ref(), "per-file-ignores")
                .map_err(|message| (pattern.span(), message))?;
            let codes: Vec<&str> = codes.iter().map(|c| c.get_ref().as_str()).collect();
            let selection = Selection::from_lists(Some(&codes), &[])
                .map_err(|e| (pattern.span(), e.to_string()))?;
            entries.push(PerFileEntry {
                matcher: glob.compile_matcher(),
                anchored,
                codes: selection.codes().to_vec(),
            });
        }
        Ok(PerFileIgnores { root, entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether findings of `code` are dropped in the file at `path` (absolute, see
    /// [`absolute`]).
    pub fn ignores(&self, path: &Path, code: &str) -> bool {
        let rel = path.strip_prefix(&self.root).ok();
        self.entries
            .iter()
            .filter(|entry| entry.codes.contains(&code))
            .any(|entry| {
                if entry.anchored {
                    // The file or a folder it is in, relative to the configuration's folder.
                    rel.is_some_and(|rel| {
                        rel.ancestors()
                            .filter(|a| !a.as_os_str().is_empty())
                            .any(|a| entry.matcher.is_match(a))
                    })
                } else {
                    // The file's name, or the name of a folder it is in (below the root).
                    let names = match rel {
                        Some(rel) => rel.iter().collect::<Vec<_>>(),
                        None => path.file_name().into_iter().collect(),
                    };
                    names.into_iter().any(|name| entry.matcher.is_match(name))
                }
            })
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

    #[test]
    fn budget_and_pool_size_limits_are_read_and_checked() {
        let text = "max-pool-size = 50\n[budget]\nmax-connections = 400\nprocesses = 8\n\n[budget.multiplicity]\n\"app/db.py:pool_for\" = 5\n";
        let path = Path::new("connlint.toml");
        let config = build(path, Path::new("/p"), text, parse(path, text).unwrap()).unwrap();
        assert_eq!(config.limits.max_pool_size, 50);
        assert_eq!(config.limits.max_connections, 400);
        assert_eq!(config.limits.processes, 8);
        assert_eq!(
            config.limits.multiplicity,
            vec![("app/db.py:pool_for".to_string(), 5)]
        );
        for (bad, message) in [
            (
                "max-pool-size = 0\n",
                "line 1: `max-pool-size` must be a whole number above 0",
            ),
            (
                "[budget]\nprocesses = -2\n",
                "line 2: `processes` must be a whole number above 0",
            ),
            (
                "[budget]\nmax_connections = 5\n",
                "line 2: unknown field `max_connections`",
            ),
            (
                "[budget]\nprocesses = \"4\"\n",
                "line 2: invalid type: string \"4\"",
            ),
        ] {
            let err = parse(path, bad)
                .and_then(|options| build(path, Path::new("/p"), bad, options))
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{bad:?}: {err}");
        }
    }
}
