//! The analysis memo (the cache behind `check`) must never change a result: over the whole
//! corpus, as one project, a warm run and a run after edits agree with a cold run.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use connlint_rules::analyzer::{Declarations, Language, Memo, SourceFile};
use connlint_rules::{check_project, check_project_memo, Selection};

fn corpus_files(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.to_string_lossy().replace('\\', "/"), text));
        }
    }
}

fn run(texts: &[(String, String)], memo: Option<&mut Memo>) -> Vec<String> {
    let files: Vec<SourceFile> = texts
        .iter()
        .map(|(path, text)| SourceFile { path, text })
        .collect();
    let selection = Selection::default();
    let declared = Declarations::default();
    let checked = match memo {
        Some(memo) => check_project_memo(Language::Python, &files, &declared, &selection, memo),
        None => check_project(Language::Python, &files, &declared, &selection),
    };
    checked
        .iter()
        .map(|c| format!("{:?}", c.findings))
        .collect()
}

#[test]
fn warm_and_edited_runs_agree_with_cold_runs_over_the_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut texts = Vec::new();
    corpus_files(&root, &mut texts);
    assert!(texts.len() > 40, "{}", texts.len());

    let mut memo = Memo::new();
    let cold = run(&texts, Some(&mut memo));
    assert_eq!(cold, run(&texts, None));
    assert!(cold.iter().filter(|f| f.as_str() != "[]").count() > 20);
    let analysed = memo.stats().analysed;

    let warm = run(&texts, Some(&mut memo));
    assert_eq!(warm, cold);
    assert_eq!(memo.stats().analysed, 0);
    assert_eq!(memo.stats().reused, analysed);

    // Edit every file that defines a factory or closer others use: each edit must reach the
    // files that depend on it exactly as a cold run would see it.
    for i in 0..texts.len() {
        if !texts[i].1.contains("def get_") && !texts[i].1.contains("def release") {
            continue;
        }
        let mut edited = texts.clone();
        edited[i].1 = edited[i].1.replace("return ", "print(");
        let after = run(&edited, Some(&mut memo));
        assert_eq!(after, run(&edited, None), "after editing {}", edited[i].0);
        // And back: the memo still serves the original tree.
        assert_eq!(run(&texts, Some(&mut memo)), cold);
    }
}
