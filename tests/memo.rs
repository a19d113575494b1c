//! The analysis memo (the cache behind `check`) must never change a result: over the whole
//! corpus, as one project, a warm run and a run after edits agree with a cold run. Nor may the
//! prefilter, or the order in which the files are given.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use connlint_rules::analyzer::{Declarations, Language, Memo, SourceFile};
use connlint_rules::{check_project, check_project_memo, Selection};

/// The corpus files with extension `ext` under `dir`, in path order, as (path, text).
fn corpus_files(dir: &Path, ext: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            corpus_files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
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
    findings(&checked)
}

#[test]
fn warm_and_edited_runs_agree_with_cold_runs_over_the_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut texts = Vec::new();
    corpus_files(&root, "py", &mut texts);
    assert!(texts.len() > 40, "{}", texts.len());

    let mut memo = Memo::new();
    let cold = run(&texts, Some(&mut memo));
    assert_eq!(cold, run(&texts, None));
    assert!(cold.iter().filter(|f| f.as_str() != "[]").count() > 20);
    let analysed = memo.stats().analysed;
    // The cold run replays some of its own analyses too (when the prefilter adds files, the
    // fixed point starts again); a warm run replays every one of the cold run's.
    let reused = memo.stats().reused;

    let warm = run(&texts, Some(&mut memo));
    assert_eq!(warm, cold);
    assert_eq!(memo.stats().analysed, 0);
    assert_eq!(memo.stats().reused, analysed + reused);

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

/// Each file's findings, as text to compare.
fn findings(checked: &[connlint_rules::Checked]) -> Vec<String> {
    checked
        .iter()
        .map(|c| format!("{:?}", c.findings))
        .collect()
}

/// The project checked with the prefilter on or off, and how many analyses ran.
fn prefiltered(
    language: Language,
    texts: &[(String, String)],
    prefilter: bool,
) -> (Vec<connlint_rules::Checked>, usize) {
    let files: Vec<SourceFile> = texts
        .iter()
        .map(|(path, text)| SourceFile { path, text })
        .collect();
    let selection = Selection::default();
    let declared = Declarations::default();
    let limits = connlint_rules::Limits::default();
    let options = connlint_rules::ProjectOptions {
        declared: &declared,
        selection: &selection,
        limits: &limits,
        prefilter,
    };
    let mut memo = Memo::new();
    let checked = connlint_rules::check_project_with(language, &files, options, &mut memo);
    (checked, memo.stats().analysed)
}

/// The corpus, a file that holds nothing, and one that only defines a closer another uses.
fn corpus_and_extras() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut texts = Vec::new();
    corpus_files(&root, "py", &mut texts);
    texts.push((
        "extra/maths.py".into(),
        "def area(r):\n    return 3.14 * r * r\n".into(),
    ));
    texts.push((
        "extra/helpers.py".into(),
        "def hand_over(c):\n    KEEP.append(c)\n".into(),
    ));
    // An empty package file, needed only because user.py imports from the package: it joins
    // the fixed point without another one (it is inert).
    texts.push(("extra/__init__.py".into(), String::new()));
    texts.push((
        "extra/user.py".into(),
        "from extra.helpers import hand_over\n\ndef keep(pool):\n    c = pool.getconn()\n    hand_over(c)\n".into(),
    ));
    texts
}

#[test]
fn the_prefilter_changes_no_finding_over_the_corpus() {
    let mut texts = corpus_and_extras();
    // Most projects are mostly text that never touches a connection: a table as large as a
    // third of the rest, so that leaving files out pays.
    let rest: usize = texts.iter().map(|(_, t)| t.len()).sum();
    let row = "ROWS.append((1, 2, 3))\n";
    texts.push((
        "extra/tables.py".into(),
        row.repeat(rest / 3 / row.len() + 1),
    ));
    let (with, parsed_with) = prefiltered(Language::Python, &texts, true);
    let (without, parsed_without) = prefiltered(Language::Python, &texts, false);
    let (with, without) = (findings(&with), findings(&without));
    // maths.py, tables.py (and corpus files without connection code) are never parsed.
    assert!(
        parsed_with < parsed_without,
        "{parsed_with} vs {parsed_without}"
    );
    for ((path, _), (a, b)) in texts.iter().zip(with.iter().zip(&without)) {
        assert_eq!(a, b, "{path}");
    }
    // The closer in helpers.py was needed (user.py's connection is handed over, not leaked).
    let user = texts
        .iter()
        .position(|(p, _)| p == "extra/user.py")
        .unwrap();
    assert_eq!(with[user], "[]");
}

#[test]
fn the_prefilter_steps_aside_when_it_would_leave_little_out() {
    // The files without connection code are under a tenth of the corpus' text: analysing them
    // costs less than the second fixed point that adding helpers.py back would.
    let texts = corpus_and_extras();
    let (with, parsed_with) = prefiltered(Language::Python, &texts, true);
    let (without, parsed_without) = prefiltered(Language::Python, &texts, false);
    let (with, without) = (findings(&with), findings(&without));
    assert_eq!(parsed_with, parsed_without);
    assert_eq!(with, without);
}

#[test]
fn the_rust_prefilter_changes_no_finding_over_the_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut texts = Vec::new();
    corpus_files(&root, "rs", &mut texts);
    assert!(texts.len() > 10, "{}", texts.len());
    // A file that names no pool crate or type, with a syntax error: only a run that parses
    // everything sees it.
    texts.push((
        "extra/src/maths.rs".into(),
        "pub fn area(r: f64) -> f64 { 3.14 * r * r\n".into(),
    ));
    let (with, _) = prefiltered(Language::Rust, &texts, true);
    let (without, _) = prefiltered(Language::Rust, &texts, false);
    assert_eq!(findings(&with), findings(&without));
    assert!(with.iter().filter(|c| !c.findings.is_empty()).count() > 10);
    let maths = texts.len() - 1;
    assert!(
        with[maths].problems.is_empty(),
        "{:?}",
        with[maths].problems
    );
    assert_eq!(
        without[maths].problems.len(),
        1,
        "{:?}",
        without[maths].problems
    );
}

#[test]
fn the_order_of_the_files_changes_no_finding_over_the_corpus() {
    // The first round analyses files in waves read from their imports, and within a wave in
    // the order given: neither may change what is found, only how often a file is analysed.
    // Nor may the rules read the order (CL011 once listed pools of equal size in it).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut texts = Vec::new();
    corpus_files(&root, "py", &mut texts);
    let by_path = |texts: &[(String, String)]| {
        let mut found: Vec<(String, String)> = texts
            .iter()
            .map(|(path, _)| path.clone())
            .zip(run(texts, None))
            .collect();
        found.sort();
        found
    };
    let forward = by_path(&texts);
    assert!(forward.iter().filter(|(_, f)| f.as_str() != "[]").count() > 20);
    let mut reversed = texts.clone();
    reversed.reverse();
    assert_eq!(by_path(&reversed), forward);
    // Users before the files they import, and the other way round, in a third order.
    let mut shuffled = texts.clone();
    shuffled.sort_by_key(|(path, text)| (text.len() % 7, path.len() % 3, path.clone()));
    assert_eq!(by_path(&shuffled), forward);
}
