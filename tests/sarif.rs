//! `--format sarif`: valid against the official SARIF 2.1.0 schema (vendored in tests/data),
//! rules documented from their doc comments, results with locations, related locations and
//! fingerprints that survive unrelated edits; and `--format github`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{connlint, tempdir, write, CLEAN, LEAK, LEAK_ON_EXCEPTION, WITH_CONNECT};
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-2.1.0-rtm.5.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    // The schema's own pattern for `language` (of a run and of a tool component) has a stray
    // `]`: ECMAScript, the schema's regex dialect, reads it as a literal, but the draft-04
    // meta-schema check that `jsonschema` runs on every schema rejects it. It is replaced here,
    // in memory, by the pattern it means; the file stays as published. connlint writes no
    // `language` anyway.
    let fixed = fix_patterns(
        &mut schema,
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    assert_eq!(
        fixed, 2,
        "the vendored schema changed: revisit this workaround"
    );
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// Replaces every `"pattern": from` in `schema` by `to`; returns how many.
fn fix_patterns(schema: &mut Value, from: &str, to: &str) -> usize {
    match schema {
        Value::Object(map) => {
            let mut count = 0;
            for (key, value) in map.iter_mut() {
                if key == "pattern" && value == from {
                    *value = Value::from(to);
                    count += 1;
                } else {
                    count += fix_patterns(value, from, to);
                }
            }
            count
        }
        Value::Array(items) => items.iter_mut().map(|v| fix_patterns(v, from, to)).sum(),
        _ => 0,
    }
}

fn assert_valid(document: &Value) {
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

#[test]
fn the_schema_check_rejects_what_is_not_sarif() {
    let dir = tempdir();
    write(dir.path(), "db.py", LEAK);
    let good = connlint(dir.path(), &["check", "--format", "sarif"]).json();
    assert_valid(&good);
    let validator = schema();
    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad_level));
    let mut no_message = good.clone();
    no_message["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&no_message));
    let mut bad_line = good;
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!validator.is_valid(&bad_line));
}

/// Every kind of output: three rules, labels, a problem, an unused suppression, a path that
/// needs percent-encoding.
fn busy_tree() -> tempfile::TempDir {
    let dir = tempdir();
    write(
        dir.path(),
        "app/all.py",
        format!("{LEAK}\n{LEAK_ON_EXCEPTION}\n{WITH_CONNECT}"),
    );
    write(dir.path(), "my app/déjà vu.py", LEAK);
    // A syntax error in a file with connection code (files without any are not parsed).
    write(
        dir.path(),
        "broken.py",
        "def broken(conn:\n    conn.close()\n",
    );
    write(
        dir.path(),
        "quiet.py",
        format!("{CLEAN}x = 1  # connlint: ignore[CL001]\n"),
    );
    dir
}

#[test]
fn the_output_is_valid_sarif_2_1_0() {
    let dir = busy_tree();
    let run = connlint(
        dir.path(),
        &["check", "--format", "sarif", "--report-unused-suppressions"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let doc = run.json();
    assert_valid(&doc);

    let results = doc["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["CL001", "CL002", "CL008", "CL001", "unused-suppression"]
    );
    // Every result's ruleIndex points at its rule.
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        uris,
        [
            "app/all.py",
            "app/all.py",
            "app/all.py",
            "my%20app/d%C3%A9j%C3%A0%20vu.py",
            "quiet.py"
        ]
    );
    let notifications = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(
        notifications[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken.py"
    );
}

#[test]
fn an_empty_run_and_absolute_paths_are_valid_too() {
    let dir = tempdir();
    write(dir.path(), "ok.py", CLEAN);
    let clean = connlint(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(clean.code, 0);
    assert_valid(&clean.json());
    assert_eq!(clean.json()["runs"][0]["results"], serde_json::json!([]));

    write(dir.path(), "leak.py", LEAK);
    let absolute = dir.path().join("leak.py");
    let run = connlint(
        dir.path(),
        &["check", "--format", "sarif", absolute.to_str().unwrap()],
    );
    assert_valid(&run.json());
    let uri = run.json()["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(uri.starts_with("file:///"), "{uri}");
    assert!(uri.ends_with("/leak.py"), "{uri}");
}

#[test]
fn rules_carry_their_documentation() {
    let dir = tempdir();
    let run = connlint(dir.path(), &["check", "--format", "sarif"]);
    let doc = run.json();
    let driver = &doc["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "connlint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), connlint_rules::all_rules().len());
    for (rule, registered) in rules.iter().zip(connlint_rules::all_rules()) {
        let meta = registered.meta();
        assert_eq!(rule["id"], meta.code);
        assert_eq!(rule["name"], meta.name);
        assert_eq!(rule["shortDescription"]["text"], meta.summary());
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(full.starts_with(&meta.summary()), "{full}");
        assert!(full.len() > meta.summary().len(), "{full}");
        assert_eq!(rule["help"]["markdown"], meta.docs());
        assert_eq!(rule["help"]["text"], meta.docs());
        assert_eq!(
            rule["defaultConfiguration"]["level"],
            meta.severity.as_str()
        );
        assert_eq!(
            rule["defaultConfiguration"]["enabled"],
            meta.default_enabled
        );
    }
}

/// The fingerprint of the CL001 finding of `db.py`.
fn fingerprint(dir: &std::path::Path) -> String {
    let run = connlint(dir, &["check", "--format", "sarif", "db.py"]);
    let doc = run.json();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    results[0]["partialFingerprints"]["connlint/v1"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn fingerprints_survive_unrelated_edits_but_not_edits_of_the_finding() {
    let dir = tempdir();
    write(dir.path(), "db.py", LEAK);
    let original = fingerprint(dir.path());

    // Another function and blank lines added above, and extra spaces on the line.
    let moved = format!(
        "import os\n\n\ndef other():\n    return os.getcwd()\n\n\n{}",
        LEAK.replace("conn = pool.getconn()", "conn  =  pool.getconn()")
    );
    write(dir.path(), "db.py", &moved);
    assert_eq!(fingerprint(dir.path()), original);

    // The acquisition's line changed: a different finding as far as anyone can tell.
    write(
        dir.path(),
        "db.py",
        LEAK.replace("conn = pool", "connection = pool")
            .replace("putconn(conn)", "putconn(connection)"),
    );
    assert_ne!(fingerprint(dir.path()), original);
    // The function renamed.
    write(dir.path(), "db.py", LEAK.replace("def load", "def fetch"));
    assert_ne!(fingerprint(dir.path()), original);
}

#[test]
fn the_sarif_of_a_tiny_input() {
    let dir = tempdir();
    write(dir.path(), "app/db.py", LEAK);
    let run = connlint(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(run.code, 1);
    let mut doc = run.json();
    // The rules' documentation changes with every rule added; it is tested above.
    let driver = &mut doc["runs"][0]["tool"]["driver"];
    driver["rules"] =
        serde_json::json!(["[every rule: tested by rules_carry_their_documentation]"]);
    driver["version"] = "[version]".into();
    driver["semanticVersion"] = "[version]".into();
    insta::assert_snapshot!(serde_json::to_string_pretty(&doc).unwrap());
}

// ---------------------------------------------------------------------------------------------
// --format github

#[test]
fn github_format_prints_one_workflow_command_per_finding_and_problem() {
    let dir = tempdir();
    write(dir.path(), "a,b:c.py", LEAK);
    // A syntax error in a file with connection code (files without any are not parsed).
    write(
        dir.path(),
        "broken.py",
        "def broken(conn:\n    conn.close()\n",
    );
    write(
        dir.path(),
        "z.py",
        format!("{CLEAN}x = 1  # connlint: ignore[CL002, CL099]\n"),
    );
    let run = connlint(
        dir.path(),
        &[
            "check",
            "--format",
            "github",
            "--report-unused-suppressions",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(
        lines[0],
        "::error file=a%2Cb%3Ac.py,line=2,col=12,endLine=2,endColumn=26,\
         title=CL001 connection-not-released::connection from `pool.getconn()` is not released \
         on every path"
    );
    assert_eq!(
        lines[1],
        "::warning file=z.py,line=7,col=8,endLine=7,endColumn=40,title=unused-suppression::\
         suppression of `CL002` silences nothing; `CL099` is not a rule code"
    );
    assert!(
        // The parameter list is never closed: ruff's parser reports it where the file ends.
        lines[2].starts_with("::warning file=broken.py::line 3, column 1: syntax error: "),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("syntax error"), "{}", lines[2]);

    let clean = tempdir();
    write(clean.path(), "ok.py", CLEAN);
    let run = connlint(clean.path(), &["check", "--format", "github"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
}
