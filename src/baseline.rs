//! Baselines, for adopting connlint in a codebase that already has findings:
//! `--write-baseline FILE` records today's findings, `--baseline FILE` then reports only the
//! others.
//!
//! ```json
//! {
//!   "version": 1,
//!   "entries": [
//!     {"code": "CL001", "path": "app/db.py", "function": "load",
//!      "fingerprint": "5f2c0e4c1a9b7d31:0", "line": 2}
//!   ]
//! }
//! ```
//!
//! An entry matches a finding with the same code, path, function and fingerprint
//! ([`crate::fingerprint`]), never by line: `line` is there for people reading the file. Paths
//! are relative to the baseline file's folder, with `/`, so the same baseline works from any
//! current directory and on any system. Each entry matches at most one finding. An entry that
//! matches nothing although its file was checked (or no longer exists) is counted as fixed, and
//! the summary says so, so the file can be rewritten smaller; entries of files this run did not
//! look at (`connlint check one.py`, a pre-commit run on the staged files) are left alone.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::absolute;
use crate::report::{BaselineOutcome, Report};

/// The version of the file format (and of the fingerprint scheme) this connlint writes.
const FORMAT_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum BaselineError {
    #[error("cannot read the baseline {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a connlint baseline: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{}: baseline version {found} is not supported (this connlint reads version {FORMAT_VERSION}); write it again with --write-baseline",
        path.display()
    )]
    Version { path: PathBuf, found: String },
    #[error("cannot write the baseline {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u64,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    code: String,
    path: String,
    function: String,
    fingerprint: String,
    /// Where the finding was when the baseline was written; not used for matching.
    #[serde(default)]
    line: u32,
}

/// What an entry is matched by.
type Key = (String, String, String, String);

impl Entry {
    fn key(&self) -> Key {
        (
            self.code.clone(),
            self.path.clone(),
            self.function.clone(),
            self.fingerprint.clone(),
        )
    }
}

/// A baseline read from its file.
#[derive(Debug)]
pub(crate) struct Baseline {
    /// The baseline file's folder, absolute: entry paths are relative to it.
    dir: PathBuf,
    entries: Vec<Entry>,
}

impl Baseline {
    pub fn load(path: &Path, cwd: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| BaselineError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        // The version first: a later format may not parse as this one.
        match value.get("version") {
            Some(version) if version.as_u64() == Some(FORMAT_VERSION) => {}
            Some(version) => {
                return Err(BaselineError::Version {
                    path: path.to_path_buf(),
                    found: version.to_string(),
                })
            }
            None => return Err(invalid("missing field `version`".into())),
        }
        let file: BaselineFile =
            serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        Ok(Baseline {
            dir: folder_of(cwd, path),
            entries: file.entries,
        })
    }

    /// Takes the findings the baseline has out of `report`; `checked` are the reported paths of
    /// every file this run looked at.
    pub fn apply(&self, report: &mut Report, checked: &[String], cwd: &Path) -> BaselineOutcome {
        let mut remaining: HashMap<Key, usize> = HashMap::new();
        for entry in &self.entries {
            *remaining.entry(entry.key()).or_default() += 1;
        }
        let mut matched = 0;
        report.retain_findings(|file, finding, fingerprint| {
            let key = (
                finding.code.to_string(),
                relative_to(cwd, &self.dir, &file.path),
                finding.function.clone(),
                fingerprint.to_string(),
            );
            match remaining.get_mut(&key) {
                Some(count) if *count > 0 => {
                    *count -= 1;
                    matched += 1;
                    false
                }
                _ => true,
            }
        });
        let checked: HashSet<String> = checked
            .iter()
            .map(|p| relative_to(cwd, &self.dir, p))
            .collect();
        let fixed = remaining
            .iter()
            .filter(|((_, path, _, _), _)| checked.contains(path) || !self.dir.join(path).exists())
            .map(|(_, count)| count)
            .sum();
        BaselineOutcome { matched, fixed }
    }
}

/// Writes every finding of `report` as a baseline at `path`; returns how many.
pub(crate) fn write(path: &Path, cwd: &Path, report: &Report) -> Result<usize, BaselineError> {
    let dir = folder_of(cwd, path);
    let mut entries = Vec::with_capacity(report.finding_count());
    for (i, file) in report.files.iter().enumerate() {
        let rel = relative_to(cwd, &dir, &file.path);
        let index = connlint_analyzer::LineIndex::new(&file.text);
        let prints = report.fingerprints(i);
        for (finding, fingerprint) in file.findings.iter().zip(prints.iter().cloned()) {
            entries.push(Entry {
                code: finding.code.to_string(),
                path: rel.clone(),
                function: finding.function.clone(),
                fingerprint,
                line: index.line_col(finding.span.start).line,
            });
        }
    }
    let count = entries.len();
    let document = BaselineFile {
        version: FORMAT_VERSION,
        entries,
    };
    let write_error = |source| BaselineError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut text = serde_json::to_string_pretty(&document)
        .map_err(|e| write_error(std::io::Error::other(e)))?;
    text.push('\n');
    std::fs::write(path, text).map_err(write_error)?;
    Ok(count)
}

/// The folder of the baseline file at `path`, absolute.
fn folder_of(cwd: &Path, path: &Path) -> PathBuf {
    absolute(cwd, path.parent().unwrap_or(Path::new("")))
}

/// A reported path as the baseline stores it: relative to `dir` with `/` separators when it is
/// inside it, absolute otherwise.
fn relative_to(cwd: &Path, dir: &Path, reported: &str) -> String {
    let path = absolute(cwd, Path::new(reported));
    match path.strip_prefix(dir) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_stored_relative_to_the_baseline_folder() {
        let cwd = Path::new("/repo/app");
        let dir = Path::new("/repo");
        assert_eq!(relative_to(cwd, dir, "db.py"), "app/db.py");
        assert_eq!(relative_to(cwd, dir, "./sub/../db.py"), "app/db.py");
        assert_eq!(relative_to(cwd, dir, "/repo/lib/x.py"), "lib/x.py");
        assert_eq!(relative_to(cwd, dir, "/elsewhere/x.py"), "/elsewhere/x.py");
        assert_eq!(
            folder_of(cwd, Path::new("../connlint-baseline.json")),
            PathBuf::from("/repo")
        );
        assert_eq!(
            folder_of(cwd, Path::new("b.json")),
            PathBuf::from("/repo/app")
        );
    }
}
