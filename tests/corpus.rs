//! Runs every corpus file and matches findings against its inline annotations, exhaustively.
//!
//! `# expect: CL001` on a line: that rule must fire with its primary span starting on that line.
//! `# expect-missing: CL001`: a known miss; it must NOT fire (when it starts firing, promote it).
//! `# expect-spurious: CL001`: a known false alarm; it must fire (when it stops, delete it).
//! A comment alone on a line applies to the next code line. Any other finding fails the run.
//! Files in `corpus/<rule-name>/` run with that rule only; `all-rules/` and `projects/` with all.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use connlint_analyzer::{Language, LineIndex};
use connlint_rules::{all_rules, find_rule, Selection};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Expect,
    Missing,
    Spurious,
}

/// (line, code, kind) for every annotation in a file.
fn annotations(text: &str) -> Vec<(u32, String, Kind)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(hash) = comment_start(line) else {
            continue;
        };
        let comment = line[hash..].trim_start_matches(['#', '/']).trim();
        let (kind, rest) = if let Some(r) = comment.strip_prefix("expect-missing:") {
            (Kind::Missing, r)
        } else if let Some(r) = comment.strip_prefix("expect-spurious:") {
            (Kind::Spurious, r)
        } else if let Some(r) = comment.strip_prefix("expect:") {
            (Kind::Expect, r)
        } else {
            continue;
        };
        // A comment alone on its line applies to the next line that has code.
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
            out.push((target as u32 + 1, code.to_string(), kind));
        }
    }
    out
}

/// Where a `#`/`//` comment starts, outside string literals (good enough for corpus files).
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let bytes: Vec<char> = line.chars().collect();
    let mut offset = 0;
    for (i, &c) in bytes.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return Some(offset),
            None if c == '/' && bytes.get(i + 1) == Some(&'/') => return Some(offset),
            None => {}
        }
        offset += c.len_utf8();
    }
    None
}

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// A corpus file's path below `corpus/`, as findings and messages show it.
fn relative(path: &Path) -> String {
    path.strip_prefix(corpus_root())
        .unwrap()
        .display()
        .to_string()
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![corpus_root()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "py" || e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The rules a corpus file runs with, from its folder.
fn selection_for(path: &Path) -> Selection {
    let rel = path.strip_prefix(corpus_root()).unwrap();
    let folder = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    match folder.as_str() {
        "all-rules" | "projects" => Selection::all(),
        name => {
            let rule =
                find_rule(name).unwrap_or_else(|| panic!("corpus folder `{name}` names no rule"));
            Selection::only(&[rule.meta().code])
        }
    }
}

/// Findings of one corpus file as (line, code), after suppressions.
fn findings_of(path: &Path, text: &str) -> Vec<(u32, String)> {
    let index = LineIndex::new(text);
    check_corpus_file(path, text)
        .findings
        .into_iter()
        .map(|f| (index.line_col(f.span.start).line, f.code.to_string()))
        .collect()
}

/// The project folder a file belongs to: `corpus/projects/<name>/`.
fn project_of(path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(corpus_root().join("projects")).ok()?;
    let name = rel.components().next()?;
    Some(corpus_root().join("projects").join(name))
}

/// One corpus file checked the way the CLI would: alone, or with the other files of its
/// project (paths relative to the project folder, so that its imports resolve).
fn check_corpus_file(path: &Path, text: &str) -> connlint_rules::Checked {
    let selection = selection_for(path);
    let language = path
        .to_str()
        .and_then(Language::from_path)
        .unwrap_or(Language::Python);
    let Some(project) = project_of(path) else {
        return connlint_rules::check_source(language, text, &selection);
    };
    let members: Vec<(String, String)> = corpus_files()
        .into_iter()
        .filter(|p| p.starts_with(&project) && p.extension() == path.extension())
        .map(|p| {
            let rel = p.strip_prefix(&project).unwrap().display().to_string();
            (rel, fs::read_to_string(&p).unwrap())
        })
        .collect();
    let files: Vec<connlint_analyzer::SourceFile> = members
        .iter()
        .map(|(p, t)| connlint_analyzer::SourceFile { path: p, text: t })
        .collect();
    let me = path.strip_prefix(&project).unwrap().display().to_string();
    let at = members.iter().position(|(p, _)| *p == me).unwrap();
    connlint_rules::check_project(language, &files, &Default::default(), &selection).swap_remove(at)
}

#[test]
fn corpus_annotations_match_findings_exactly() {
    let mut failures = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for path in corpus_files() {
        let text = fs::read_to_string(&path).unwrap();
        let rel = relative(&path);
        let expected = annotations(&text);
        let selection = selection_for(&path);
        for (line, code, _) in &expected {
            // An annotation for a rule this folder does not run could never fail.
            if !selection.codes().contains(&code.as_str()) {
                failures.push(format!(
                    "{rel}:{line}: {code} does not run in this folder; move the case"
                ));
            }
        }
        let found: BTreeSet<(u32, String)> = findings_of(&path, &text).into_iter().collect();
        let mut problems = Vec::new();
        for (line, code, kind) in &expected {
            let fired = found.contains(&(*line, code.clone()));
            match (kind, fired) {
                (Kind::Expect, false) => problems.push(format!("{rel}:{line}: expected {code}, not reported")),
                (Kind::Spurious, false) => problems.push(format!(
                    "{rel}:{line}: fixed spurious result: {code} no longer fires; delete the annotation"
                )),
                (Kind::Missing, true) => problems.push(format!(
                    "{rel}:{line}: fixed missing result: {code} fires now; change to `expect:`"
                )),
                _ => {}
            }
        }
        for (line, code) in &found {
            let annotated = expected
                .iter()
                .any(|(l, c, k)| l == line && c == code && *k != Kind::Missing);
            if !annotated {
                problems.push(format!("{rel}:{line}: unexpected {code}"));
            }
        }
        if problems.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            failures.extend(problems);
        }
    }
    println!("corpus: {passed} passed, {failed} failed");
    assert!(
        failures.is_empty(),
        "corpus mismatches:\n{}",
        failures.join("\n")
    );
    assert!(passed > 0, "no corpus files found");
}

/// The rendered diagnostics of each corpus file, stored beside it as `<case>.py.snap`, so that
/// changes to wording and spans show up in review. `INSTA_UPDATE=always cargo test --test corpus`
/// rewrites them; read the diff before committing.
#[test]
fn corpus_rendered_snapshots() {
    for path in corpus_files() {
        let text = fs::read_to_string(&path).unwrap();
        let rel = relative(&path);
        let checked = check_corpus_file(&path, &text);
        let mut rendered = connlint::render::render_human_plain(&rel, &text, &checked.findings);
        if rendered.is_empty() {
            rendered = "no findings\n".into();
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        insta::with_settings!({
            snapshot_path => path.parent().unwrap(),
            prepend_module_to_snapshot => false,
            input_file => &path,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
}

#[test]
fn every_rule_has_corpus_cases_that_fire_and_functions_that_stay_silent() {
    for rule in all_rules() {
        let meta = rule.meta();
        let dir = corpus_root().join(meta.name);
        assert!(
            dir.is_dir(),
            "{}: no corpus folder corpus/{}",
            meta.code,
            meta.name
        );
        let mut fires = 0;
        let mut functions = 0;
        for path in corpus_files().into_iter().filter(|p| p.starts_with(&dir)) {
            let text = fs::read_to_string(&path).unwrap();
            fires += annotations(&text)
                .iter()
                .filter(|(_, c, k)| c == meta.code && *k == Kind::Expect)
                .count();
            // Functions, and module-level assignments from a call (pool constructions).
            functions += text
                .lines()
                .filter(|l| {
                    let code = l.split('#').next().unwrap_or("");
                    let t = l.trim_start();
                    let t = t.strip_prefix("pub ").unwrap_or(t);
                    t.starts_with("def ")
                        || t.starts_with("async def ")
                        || t.starts_with("fn ")
                        || t.starts_with("async fn ")
                        // Module-level assignments from a call (pool constructions).
                        || (!l.starts_with([' ', '\t'])
                            && code.contains(" = ")
                            && code.contains('('))
                })
                .count();
        }
        assert!(fires > 0, "{}: no corpus case fires", meta.code);
        assert!(
            functions > fires,
            "{}: no corpus function or construction stays silent",
            meta.code
        );
    }
}

#[test]
fn annotation_parser_reads_trailing_standalone_and_lists() {
    let text = "a = 1  # expect: CL001, CL002\n# expect-missing: CL008\n\n# a note\nb = 2\nc = '#'  # expect-spurious: CL001\n";
    assert_eq!(
        annotations(text),
        vec![
            (1, "CL001".into(), Kind::Expect),
            (1, "CL002".into(), Kind::Expect),
            (5, "CL008".into(), Kind::Missing),
            (6, "CL001".into(), Kind::Spurious),
        ]
    );
}

/// The examples in each rule's documentation are real: `## Example` fires the rule exactly
/// once, `Use instead:` does not fire it.
#[test]
fn rule_documentation_examples_behave_as_documented() {
    for rule in all_rules() {
        let meta = rule.meta();
        let docs = meta.docs();
        let (example, fixed) = docs.split_once("Use instead:").unwrap();
        // The first ```python or ```rust block of a section, and its language.
        let code_of = |section: &str| -> (String, Language) {
            let python = section.find("```python");
            let rust = section.find("```rust");
            let (at, fence, language) = match (python, rust) {
                (Some(p), Some(r)) if r < p => (r, "```rust", Language::Rust),
                (Some(p), _) => (p, "```python", Language::Python),
                (None, Some(r)) => (r, "```rust", Language::Rust),
                (None, None) => panic!("{}: no python or rust block", meta.code),
            };
            let code = section[at + fence.len()..]
                .split("```")
                .next()
                .unwrap_or("")
                .to_string();
            (code, language)
        };
        let count = |(src, language): &(String, Language)| {
            connlint_rules::check_source(*language, src, &Selection::only(&[meta.code]))
                .findings
                .len()
        };
        let example = code_of(example.split("## Example").nth(1).unwrap());
        assert_eq!(
            count(&example),
            1,
            "{}: the Example should fire once:\n{}",
            meta.code,
            example.0
        );
        let fixed = code_of(fixed);
        assert_eq!(
            count(&fixed),
            0,
            "{}: `Use instead` should not fire:\n{}",
            meta.code,
            fixed.0
        );
    }
}
