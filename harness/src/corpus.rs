//! What the harness reads from the repository: corpus files (runtime, annotations), the static
//! findings (`connlint check --format json`), and the reviewed list of runtime limits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Python,
    Rust,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Rust => "rust",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// The harness runs it.
    Yes,
    /// A known runtime the harness does not drive yet: a corpus file naming it is an error.
    NotYet,
}

pub struct RuntimeSpec {
    pub name: &'static str,
    pub lang: Lang,
    pub support: Support,
    pub needs_pg: bool,
}

/// Every runtime name a `# confirm:` / `// confirm:` line may use. `none` (no runtime can run the
/// case) is handled separately: the file is skipped and counted.
pub const RUNTIMES: &[RuntimeSpec] = &[
    RuntimeSpec {
        name: "psycopg2",
        lang: Lang::Python,
        support: Support::Yes,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "psycopg2-pool",
        lang: Lang::Python,
        support: Support::Yes,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "psycopg-pool",
        lang: Lang::Python,
        support: Support::Yes,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "asyncpg",
        lang: Lang::Python,
        support: Support::Yes,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "sqlalchemy",
        lang: Lang::Python,
        support: Support::Yes,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "sqlite3",
        lang: Lang::Python,
        support: Support::Yes,
        needs_pg: false,
    },
    // Python runtimes of the design that the driver does not run yet (Support::NotYet), and the
    // Rust runtimes (harness/rust/; r2d2-postgres not yet).
    RuntimeSpec {
        name: "aiopg",
        lang: Lang::Python,
        support: Support::NotYet,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "psycopg-pool-async",
        lang: Lang::Python,
        support: Support::NotYet,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "sqlalchemy-async",
        lang: Lang::Python,
        support: Support::NotYet,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "redis",
        lang: Lang::Python,
        support: Support::NotYet,
        needs_pg: false,
    },
    RuntimeSpec {
        name: "sqlx-sqlite",
        lang: Lang::Rust,
        support: Support::Yes,
        needs_pg: false,
    },
    RuntimeSpec {
        name: "sqlx-postgres",
        lang: Lang::Rust,
        support: Support::Yes,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "r2d2-sqlite",
        lang: Lang::Rust,
        support: Support::Yes,
        needs_pg: false,
    },
    RuntimeSpec {
        name: "r2d2-postgres",
        lang: Lang::Rust,
        support: Support::NotYet,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "deadpool-postgres",
        lang: Lang::Rust,
        support: Support::Yes,
        needs_pg: true,
    },
    RuntimeSpec {
        name: "bb8-postgres",
        lang: Lang::Rust,
        support: Support::Yes,
        needs_pg: true,
    },
];

pub fn runtime(name: &str) -> Option<&'static RuntimeSpec> {
    RUNTIMES.iter().find(|r| r.name == name)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AnnKind {
    Expect,
    Missing,
    Spurious,
}

#[derive(Clone, Debug)]
pub struct Annotation {
    pub line: u32,
    pub code: String,
    pub kind: AnnKind,
}

pub struct CaseFile {
    /// Relative to the repository root, `/`-separated (as connlint prints it).
    pub rel: String,
    pub abs: PathBuf,
    pub lang: Lang,
    /// The `confirm:` value; None when the file has no such line.
    pub runtime: Option<String>,
    pub annotations: Vec<Annotation>,
}

/// Every `.py`/`.rs` file under the corpus folder (`corpus/`), sorted.
pub fn scan(root: &Path, corpus: &str) -> Result<Vec<CaseFile>, String> {
    let mut files = Vec::new();
    let mut stack = vec![root.join(corpus)];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !name.starts_with('.') && name != "__pycache__" {
                    stack.push(path);
                }
                continue;
            }
            let lang = match path.extension().and_then(|e| e.to_str()) {
                Some("py") => Lang::Python,
                Some("rs") => Lang::Rust,
                _ => continue,
            };
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let rel = path
                .strip_prefix(root)
                .map_err(|e| e.to_string())?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect::<Vec<_>>()
                .join("/");
            files.push(CaseFile {
                rel,
                abs: path,
                lang,
                runtime: confirm_line(&text),
                annotations: annotations(&text),
            });
        }
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(files)
}

/// The value of the first `# confirm: X` / `// confirm: X` comment line.
fn confirm_line(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let t = line.trim_start();
        let rest = t.strip_prefix('#').or_else(|| t.strip_prefix("//"))?;
        let value = rest.trim().strip_prefix("confirm:")?;
        value.split_whitespace().next().map(str::to_string)
    })
}

/// Same rules as the corpus test (tests/corpus.rs): an annotation applies to its own line, or,
/// when the comment is alone on its line, to the next line with code.
pub fn annotations(text: &str) -> Vec<Annotation> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(hash) = comment_start(line) else {
            continue;
        };
        let comment = line[hash..].trim_start_matches(['#', '/']).trim();
        let (kind, rest) = if let Some(r) = comment.strip_prefix("expect-missing:") {
            (AnnKind::Missing, r)
        } else if let Some(r) = comment.strip_prefix("expect-spurious:") {
            (AnnKind::Spurious, r)
        } else if let Some(r) = comment.strip_prefix("expect:") {
            (AnnKind::Expect, r)
        } else {
            continue;
        };
        let mut target = i;
        if line[..hash].trim().is_empty() {
            target = (i + 1..lines.len())
                .find(|&j| {
                    let t = lines[j].trim();
                    !t.is_empty() && !t.starts_with('#') && !t.starts_with("//")
                })
                .unwrap_or(i);
        }
        let codes = rest.split(['#', '—']).next().unwrap_or("");
        for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let code = code.split_whitespace().next().unwrap_or(code);
            out.push(Annotation {
                line: target as u32 + 1,
                code: code.to_string(),
                kind,
            });
        }
    }
    out
}

fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    for (k, &(offset, c)) in chars.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return Some(offset),
            None if c == '/' && chars.get(k + 1).map(|x| x.1) == Some('/') => return Some(offset),
            None => {}
        }
    }
    None
}

#[derive(Clone, Debug, Deserialize)]
pub struct Finding {
    pub code: String,
    pub path: String,
    pub line: u32,
    #[serde(default)]
    pub function: Option<String>,
}

#[derive(Deserialize)]
struct CheckOutput {
    findings: Vec<Finding>,
    #[serde(default)]
    problems: Vec<serde_json::Value>,
}

/// Findings per corpus file (relative path), and connlint's problems.
pub type StaticResult = (BTreeMap<String, Vec<Finding>>, Vec<String>);

/// Findings per file (relative path), from `connlint check --format json corpus`.
pub fn static_findings(root: &Path, connlint: &Path, corpus: &str) -> Result<StaticResult, String> {
    let out = std::process::Command::new(connlint)
        .args(["check", "--format", "json", "--no-ignore", corpus])
        .current_dir(root)
        .output()
        .map_err(|e| format!("{}: {e}", connlint.display()))?;
    if !matches!(out.status.code(), Some(0) | Some(1)) {
        return Err(format!(
            "connlint check failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let parsed: CheckOutput =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("connlint JSON output: {e}"))?;
    let mut by_file: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in parsed.findings {
        by_file
            .entry(f.path.replace('\\', "/"))
            .or_default()
            .push(f);
    }
    let problems = parsed.problems.iter().map(|p| p.to_string()).collect();
    Ok((by_file, problems))
}

/// harness/known-runtime-limits.toml: disagreements the runtime genuinely cannot show.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub file: String,
    pub function: String,
    /// The static code whose disagreement is accepted (refuted CL00N, or missed CL00N).
    pub code: String,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    #[serde(default)]
    limit: Vec<Limit>,
}

pub fn known_limits(path: &Path) -> Result<Vec<Limit>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed: LimitsFile =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for l in &parsed.limit {
        if l.reason.trim().len() < 20 {
            return Err(format!(
                "{}: the entry for {}::{} needs a real reason",
                path.display(),
                l.file,
                l.function
            ));
        }
    }
    Ok(parsed.limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_follow_the_corpus_rules() {
        let text = "a = 1  # expect: CL001, CL002\n# expect-missing: CL008\n\n# a note\nb = 2\nc = '#'  # expect-spurious: CL001\n";
        let got: Vec<(u32, String, AnnKind)> = annotations(text)
            .into_iter()
            .map(|a| (a.line, a.code, a.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "CL001".into(), AnnKind::Expect),
                (1, "CL002".into(), AnnKind::Expect),
                (5, "CL008".into(), AnnKind::Missing),
                (6, "CL001".into(), AnnKind::Spurious),
            ]
        );
    }

    #[test]
    fn confirm_line_is_read() {
        assert_eq!(
            confirm_line("# x\n# confirm: psycopg2-pool\nimport y\n").as_deref(),
            Some("psycopg2-pool")
        );
        assert_eq!(
            confirm_line("// confirm: sqlx-sqlite\n").as_deref(),
            Some("sqlx-sqlite")
        );
        assert_eq!(confirm_line("x = 1\n"), None);
    }
}
