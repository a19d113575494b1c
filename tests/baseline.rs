//! `--write-baseline` and `--baseline`: adopting connlint in code that already has findings.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use common::{connlint, tempdir, write, CLEAN, LEAK, LEAK_ON_EXCEPTION};
use serde_json::Value;

fn entries(path: &std::path::Path) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
    doc["entries"].as_array().unwrap().clone()
}

#[test]
fn write_baseline_records_the_findings_and_exits_0() {
    let dir = tempdir();
    write(
        dir.path(),
        "app/db.py",
        format!("{LEAK}\n{LEAK_ON_EXCEPTION}"),
    );
    write(dir.path(), "ok.py", CLEAN);
    let run = connlint(
        dir.path(),
        &["check", "--write-baseline", "connlint-baseline.json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "Wrote 2 findings to the baseline connlint-baseline.json (2 files checked).\n"
    );
    let entries = entries(&dir.path().join("connlint-baseline.json"));
    assert_eq!(entries.len(), 2);
    let keys: Vec<String> = entries[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["code", "path", "function", "fingerprint", "line"]);
    assert_eq!(entries[0]["code"], "CL001");
    assert_eq!(entries[0]["path"], "app/db.py");
    assert_eq!(entries[0]["function"], "load");
    assert_eq!(entries[0]["line"], 2);
    assert_eq!(entries[1]["code"], "CL002");
    assert_eq!(entries[1]["function"], "lookup");
    assert_eq!(entries[1]["line"], 8);
    let fingerprint = entries[0]["fingerprint"].as_str().unwrap();
    assert!(
        fingerprint.ends_with(":0") && fingerprint.len() == 18,
        "{fingerprint}"
    );

    // The same fingerprint as SARIF's.
    let sarif = connlint(dir.path(), &["check", "--format", "sarif"]).json();
    assert_eq!(
        sarif["runs"][0]["results"][0]["partialFingerprints"]["connlint/v1"],
        fingerprint
    );
}

#[test]
fn a_baseline_hides_known_findings_even_when_lines_move() {
    let dir = tempdir();
    write(
        dir.path(),
        "app/db.py",
        format!("{LEAK}\n{LEAK_ON_EXCEPTION}"),
    );
    let written = connlint(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(written.code, 0);

    let run = connlint(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "No findings (1 file checked, 2 baselined).\n");

    // Code added above both findings, spaces changed on one of their lines, and a new leak.
    let moved = format!(
        "import os\n\n\ndef fresh(pool):\n    c = pool.getconn()\n    return None\n\n\n{}\n{}",
        LEAK.replace("conn = pool.getconn()", "conn =   pool.getconn()"),
        LEAK_ON_EXCEPTION
    );
    write(dir.path(), "app/db.py", &moved);
    let run = connlint(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.findings(),
        vec![("CL001".into(), "app/db.py".into(), 5)]
    );
    assert_eq!(run.stderr, "");
    let human = connlint(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!(
        human.stderr,
        "Found 1 finding in 1 file (1 file checked, 2 baselined).\n"
    );
}

#[test]
fn fixed_entries_are_counted_in_the_summary_but_json_keeps_its_shape() {
    let dir = tempdir();
    write(dir.path(), "a.py", format!("{LEAK}\n{LEAK_ON_EXCEPTION}"));
    write(dir.path(), "b.py", LEAK);
    let written = connlint(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(written.code, 0);

    write(dir.path(), "a.py", format!("{CLEAN}\n{LEAK_ON_EXCEPTION}"));
    let run = connlint(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stderr,
        "No findings (2 files checked, 2 baselined).\n\
         1 baseline entry is fixed; rewrite the baseline to drop it\n"
    );

    // A deleted file's entries are fixed too.
    fs::remove_file(dir.path().join("b.py")).unwrap();
    let json = connlint(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(json.code, 0);
    let keys: Vec<String> = json.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["version", "findings", "problems", "files"]);
    assert_eq!(
        json.stderr,
        "2 baseline entries are fixed; rewrite the baseline to drop them\n"
    );
    for format in ["sarif", "github"] {
        let run = connlint(
            dir.path(),
            &["check", "--baseline", "baseline.json", "--format", format],
        );
        assert!(
            run.stderr.starts_with("2 baseline entries are fixed"),
            "{format}"
        );
    }
}

#[test]
fn entries_of_files_not_checked_in_this_run_are_not_fixed() {
    let dir = tempdir();
    write(dir.path(), "a.py", LEAK);
    write(dir.path(), "b.py", LEAK);
    connlint(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    // pre-commit passes only the staged files.
    let run = connlint(
        dir.path(),
        &["check", "--baseline", "baseline.json", "a.py"],
    );
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "No findings (1 file checked, 1 baselined).\n");
}

#[test]
fn identical_findings_are_matched_one_for_one() {
    let dir = tempdir();
    let twice = "\
def load(pool):
    conn = pool.getconn()
    conn = pool.getconn()
    return 1
";
    write(dir.path(), "db.py", twice);
    let before = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(before.findings().len(), 2, "{}", before.stdout);
    connlint(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    let prints: Vec<Value> = entries(&dir.path().join("baseline.json"))
        .iter()
        .map(|e| e["fingerprint"].clone())
        .collect();
    assert_ne!(prints[0], prints[1]);

    // A third identical acquisition is new.
    write(
        dir.path(),
        "db.py",
        twice.replace("    return 1", "    conn = pool.getconn()\n    return 1"),
    );
    let run = connlint(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(run.findings().len(), 1, "{}", run.stdout);
}

#[test]
fn paths_are_relative_to_the_baseline_so_any_directory_works() {
    let dir = tempdir();
    write(dir.path(), "pkg/sub/db.py", LEAK);
    connlint(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(
        entries(&dir.path().join("baseline.json"))[0]["path"],
        "pkg/sub/db.py"
    );
    let sub = dir.path().join("pkg");
    let run = connlint(&sub, &["check", "--baseline", "../baseline.json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stderr, "No findings (1 file checked, 1 baselined).\n");

    // A baseline written from the subdirectory is relative to its own folder.
    connlint(&sub, &["check", "--write-baseline", "../from-sub.json"]);
    assert_eq!(
        entries(&dir.path().join("from-sub.json"))[0]["path"],
        "pkg/sub/db.py"
    );
}

#[test]
fn a_missing_or_bad_baseline_is_an_error() {
    let dir = tempdir();
    write(dir.path(), "db.py", LEAK);
    let cases: [(&str, Option<&str>, &str); 5] = [
        (
            "missing.json",
            None,
            "cannot read the baseline missing.json",
        ),
        (
            "garbage.json",
            Some("not json"),
            "garbage.json: not a connlint baseline: expected ident at line 1 column 2",
        ),
        (
            "old.json",
            Some("{\"version\": 7, \"entries\": []}"),
            "old.json: baseline version 7 is not supported (this connlint reads version 1)",
        ),
        (
            "shape.json",
            Some("{\"version\": 1, \"entries\": [{\"code\": \"CL001\"}]}"),
            "shape.json: not a connlint baseline: missing field `path`",
        ),
        (
            "noversion.json",
            Some("{\"entries\": []}"),
            "noversion.json: not a connlint baseline: missing field `version`",
        ),
    ];
    for (name, contents, expected) in cases {
        if let Some(text) = contents {
            write(dir.path(), name, text);
        }
        let run = connlint(dir.path(), &["check", "--baseline", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains(expected), "{name}:\n{}", run.stderr);
    }

    let both = connlint(
        dir.path(),
        &[
            "check",
            "--baseline",
            "a.json",
            "--write-baseline",
            "b.json",
        ],
    );
    assert_eq!(both.code, 2);
    let unwritable = connlint(
        dir.path(),
        &["check", "--write-baseline", "no/such/dir/b.json"],
    );
    assert_eq!(unwritable.code, 2);
    assert!(
        unwritable
            .stderr
            .contains("cannot write the baseline no/such/dir/b.json"),
        "{}",
        unwritable.stderr
    );
}
