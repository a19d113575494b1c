//! Integration tests of the `connlint` binary: exit codes, output formats, configuration,
//! file discovery, and every kind of bad input (none may crash, hang or stop the run).
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{
    connlint, connlint_with_stdin, tempdir, write, Run, CLEAN, LEAK, LEAK_ON_EXCEPTION,
    WITH_CONNECT,
};
use serde_json::json;

fn codes(run: &Run) -> Vec<String> {
    run.findings()
        .into_iter()
        .map(|(code, _, _)| code)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Output formats

#[test]
fn json_has_exactly_the_documented_shape() {
    let dir = tempdir();
    write(dir.path(), "app/db.py", LEAK);
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.json(),
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "findings": [{
                "code": "CL001",
                "name": "connection-not-released",
                "severity": "error",
                "path": "app/db.py",
                "line": 2,
                "column": 12,
                "end_line": 2,
                "end_column": 26,
                "message": "connection from `pool.getconn()` is not released on every path",
                "function": "load",
                "labels": [{
                    "path": "app/db.py",
                    "line": 4,
                    "column": 9,
                    "message": "returns here with it still held",
                }],
                "help": "give it back in a `finally:` block, or take it with the pool's context manager so every path returns it",
            }],
            "problems": [],
            "files": 1,
        })
    );
    // Nothing but the document on stdout, nothing on stderr.
    assert!(run.stdout.starts_with('{') && run.stdout.ends_with("}\n"));
    assert_eq!(run.stderr, "");
}

#[test]
fn human_output_shows_title_snippet_labels_help_and_a_summary() {
    let dir = tempdir();
    write(dir.path(), "db.py", LEAK);
    write(dir.path(), "ok.py", CLEAN);
    let run = connlint(dir.path(), &["check"]);
    assert_eq!(run.code, 1);
    let out = &run.stdout;
    assert!(
        out.contains(
            "× CL001 connection-not-released: connection from `pool.getconn()` is not released"
        ),
        "{out}"
    );
    assert!(out.contains("╭─[db.py:2:12]"), "{out}");
    assert!(out.contains(" 2 │     conn = pool.getconn()"), "{out}");
    assert!(out.contains("`conn` is acquired here"), "{out}");
    assert!(out.contains("returns here with it still held"), "{out}");
    assert!(
        out.contains("help: give it back in a `finally:` block"),
        "{out}"
    );
    assert!(
        !out.contains('\x1b'),
        "no colour when not on a terminal: {out:?}"
    );
    assert_eq!(run.stderr, "Found 1 finding in 1 file (2 files checked).\n");

    let colored = connlint(dir.path(), &["check", "--color", "always"]);
    assert!(colored.stdout.contains('\x1b'));
    let plain = connlint(dir.path(), &["check", "--color", "never"]);
    assert_eq!(plain.stdout, run.stdout);
}

#[test]
fn the_cli_and_render_human_plain_render_alike() {
    let dir = tempdir();
    write(dir.path(), "db.py", LEAK);
    let run = connlint(dir.path(), &["check", "--color", "never"]);
    let analysis =
        connlint_rules::analyzer::analyze(connlint_rules::analyzer::Language::Python, LEAK);
    let findings = connlint_rules::check(&analysis, &connlint_rules::Selection::default());
    assert_eq!(
        run.stdout,
        connlint::render::render_human_plain("db.py", LEAK, &findings)
    );
}

#[test]
fn findings_are_sorted_by_path_then_position() {
    let dir = tempdir();
    write(dir.path(), "b.py", format!("{LEAK}\n{LEAK_ON_EXCEPTION}"));
    write(dir.path(), "a/z.py", LEAK);
    write(dir.path(), "a.py", LEAK);
    let run = connlint(dir.path(), &["check", "--format", "json", "b.py", "."]);
    assert_eq!(
        run.findings(),
        vec![
            ("CL001".into(), "a.py".into(), 2),
            ("CL001".into(), "a/z.py".into(), 2),
            ("CL001".into(), "b.py".into(), 2),
            ("CL002".into(), "b.py".into(), 8),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_codes_are_0_clean_1_findings_2_errors() {
    let dir = tempdir();
    write(dir.path(), "clean.py", CLEAN);
    write(dir.path(), "leak.py", LEAK);

    let clean = connlint(dir.path(), &["check", "clean.py"]);
    assert_eq!(clean.code, 0);
    assert_eq!(clean.stdout, "");
    assert_eq!(clean.stderr, "No findings (1 file checked).\n");

    assert_eq!(connlint(dir.path(), &["check", "leak.py"]).code, 1);
    assert_eq!(connlint(dir.path(), &["check"]).code, 1);

    let missing = connlint(dir.path(), &["check", "clean.py", "nope.py"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("nope.py: no such file or directory"),
        "{}",
        missing.stderr
    );
    assert_eq!(missing.stdout, "");

    let unknown = connlint(dir.path(), &["check", "--select", "CL999"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown rule `CL999`"),
        "{}",
        unknown.stderr
    );

    let usage = connlint(dir.path(), &["check", "--format", "xml"]);
    assert_eq!(usage.code, 2);
    let usage = connlint(dir.path(), &["check", "--no-such-flag"]);
    assert_eq!(usage.code, 2);
    assert_eq!(connlint(dir.path(), &[]).code, 2);
    assert_eq!(connlint(dir.path(), &["--help"]).code, 0);

    write(dir.path(), "connlint.toml", "select = [\n");
    let bad_config = connlint(dir.path(), &["check"]);
    assert_eq!(bad_config.code, 2);
    assert!(
        bad_config.stderr.contains("connlint.toml, line 1"),
        "{}",
        bad_config.stderr
    );
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_quietly() {
    let dir = tempdir();
    for i in 0..50 {
        write(dir.path(), &format!("m{i}.py"), LEAK);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_connlint"))
        .args(["check"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before connlint writes anything.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}",
        output.status
    );
}

// ---------------------------------------------------------------------------------------------
// Standard input

#[test]
fn stdin_is_reported_under_the_given_name() {
    let dir = tempdir();
    let run = connlint_with_stdin(
        dir.path(),
        &[
            "check",
            "--stdin-filename",
            "pkg/from_stdin.py",
            "--format",
            "json",
        ],
        Some(LEAK.as_bytes()),
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.findings(),
        vec![("CL001".into(), "pkg/from_stdin.py".into(), 2)]
    );
    assert_eq!(run.json()["files"], 1);

    let clean = connlint_with_stdin(
        dir.path(),
        &["check", "--stdin-filename", "x.py"],
        Some(CLEAN.as_bytes()),
    );
    assert_eq!(clean.code, 0);

    let binary = connlint_with_stdin(
        dir.path(),
        &["check", "--stdin-filename", "x.py", "--format", "json"],
        Some(b"\0\x01\x02"),
    );
    assert_eq!(binary.code, 0);
    assert_eq!(
        binary.problems(),
        vec![("x.py".into(), "binary file; skipped".into())]
    );

    write(dir.path(), "a.py", CLEAN);
    let both = connlint_with_stdin(
        dir.path(),
        &["check", "--stdin-filename", "x.py", "a.py"],
        Some(b""),
    );
    assert_eq!(both.code, 2);
}

// ---------------------------------------------------------------------------------------------
// Rule selection and suppression

#[test]
fn select_and_ignore_take_codes_names_prefixes_lists_and_repeats() {
    let dir = tempdir();
    write(
        dir.path(),
        "all.py",
        format!("{LEAK}\n{LEAK_ON_EXCEPTION}\n{WITH_CONNECT}"),
    );
    let all = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(codes(&all), ["CL001", "CL002", "CL008"]);

    let run = |args: &[&str]| {
        let mut full = vec!["check", "--format", "json"];
        full.extend_from_slice(args);
        codes(&connlint(dir.path(), &full))
    };
    assert_eq!(run(&["--select", "CL002"]), ["CL002"]);
    assert_eq!(
        run(&["--select", "CL001,context-manager-does-not-close"]),
        ["CL001", "CL008"]
    );
    assert_eq!(
        run(&["--select", "CL001", "--select", "CL008"]),
        ["CL001", "CL008"]
    );
    assert_eq!(
        run(&["--select", "ALL", "--ignore", "CL00"]),
        Vec::<String>::new()
    );
    assert_eq!(run(&["--ignore", "CL001,CL008"]), ["CL002"]);
    assert_eq!(
        run(&[
            "--ignore",
            "connection-leaked-on-exception",
            "--ignore",
            "CL008"
        ]),
        ["CL001"]
    );

    let bad = connlint(dir.path(), &["check", "--ignore", "nope"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown rule `nope`"), "{}", bad.stderr);
}

#[test]
fn suppression_comments_silence_findings_on_their_line() {
    let dir = tempdir();
    let trailing = LEAK.replace(
        "pool.getconn()",
        "pool.getconn()  # connlint: ignore[CL001]",
    );
    write(dir.path(), "trailing.py", trailing);
    let above = LEAK.replace(
        "    conn = pool.getconn()",
        "    # connlint: ignore\n    conn = pool.getconn()",
    );
    write(dir.path(), "above.py", above);
    let other_code = LEAK.replace(
        "pool.getconn()",
        "pool.getconn()  # connlint: ignore[CL002]",
    );
    write(dir.path(), "other_code.py", other_code);
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![("CL001".into(), "other_code.py".into(), 2)]
    );
    assert_eq!(run.code, 1);
}

#[test]
fn unused_suppressions_are_reported_only_when_asked_and_count_as_findings() {
    let dir = tempdir();
    let used = LEAK.replace(
        "pool.getconn()",
        "pool.getconn()  # connlint: ignore[CL001, CL002]",
    );
    write(dir.path(), "used.py", used);
    write(
        dir.path(),
        "stale.py",
        format!("{CLEAN}\n# connlint: ignore\nx = 1\n"),
    );
    let quiet = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(quiet.code, 0);
    assert!(quiet.findings().is_empty());

    let run = connlint(
        dir.path(),
        &["check", "--format", "json", "--report-unused-suppressions"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        run.findings(),
        vec![
            ("unused-suppression".into(), "stale.py".into(), 8),
            ("unused-suppression".into(), "used.py".into(), 2),
        ]
    );
    let findings = run.json()["findings"].clone();
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(
        findings[0]["message"],
        "suppression comment silences nothing"
    );
    assert_eq!(findings[0]["column"], 1);
    assert_eq!(findings[0]["function"], "");
    assert_eq!(
        findings[1]["message"],
        "suppression of `CL002` silences nothing"
    );
    assert_eq!(findings[1]["help"], "remove `CL002` from the comment");

    let human = connlint(dir.path(), &["check", "--report-unused-suppressions"]);
    assert!(
        human
            .stdout
            .contains("⚠ unused-suppression: suppression comment silences nothing"),
        "{}",
        human.stdout
    );
    assert_eq!(
        human.stderr,
        "Found 2 findings in 2 files (2 files checked).\n"
    );

    // A code of a rule that did not run may be needed when it runs: not reported.
    let selected = connlint(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--report-unused-suppressions",
            "--select",
            "CL001",
            "used.py",
        ],
    );
    assert_eq!(selected.code, 0, "{}", selected.stdout);
}

#[test]
fn per_file_ignores_drop_rules_in_matching_files() {
    let dir = tempdir();
    let both = format!("{LEAK}\n{LEAK_ON_EXCEPTION}");
    for path in [
        "app/db.py",
        "tests/test_db.py",
        "tests/fixtures/deep/f.py",
        "app/conftest.py",
        "scripts/one.py",
        "other/scripts_x.py",
    ] {
        write(dir.path(), path, &both);
    }
    write(
        dir.path(),
        "connlint.toml",
        "[per-file-ignores]\n\
         \"tests\" = [\"CL001\"]\n\
         \"tests/fixtures\" = [\"connection-leaked-on-exception\"]\n\
         \"conftest.py\" = [\"ALL\"]\n\
         \"/scripts/*.py\" = [\"CL00\"]\n",
    );
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![
            ("CL001".into(), "app/db.py".into(), 2),
            ("CL002".into(), "app/db.py".into(), 8),
            ("CL001".into(), "other/scripts_x.py".into(), 2),
            ("CL002".into(), "other/scripts_x.py".into(), 8),
            ("CL002".into(), "tests/test_db.py".into(), 8),
        ]
    );
    // From a subdirectory, and for a file named on the command line: the patterns stay
    // relative to the configuration file.
    let sub = connlint(
        &dir.path().join("tests"),
        &["check", "--format", "json", "test_db.py"],
    );
    assert_eq!(
        sub.findings(),
        vec![("CL002".into(), "test_db.py".into(), 8)]
    );

    for (text, expected) in [
        (
            "[per-file-ignores]\n\"tests\" = [\"CL999\"]\n",
            "connlint.toml, line 2: unknown rule `CL999`",
        ),
        (
            "[per-file-ignores]\n\"a[\" = [\"CL001\"]\n",
            "connlint.toml, line 2: `a[` in `per-file-ignores` is not a valid glob",
        ),
        (
            "[per-file-ignores]\n\"tests\" = \"CL001\"\n",
            "connlint.toml, line 2: invalid type: string \"CL001\", expected a sequence",
        ),
    ] {
        write(dir.path(), "connlint.toml", text);
        let bad = connlint(dir.path(), &["check"]);
        assert_eq!(bad.code, 2, "{text}");
        assert!(bad.stderr.contains(expected), "{text}:\n{}", bad.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// File discovery

#[test]
fn gitignore_and_hidden_files_are_honoured_outside_git_repositories() {
    let dir = tempdir();
    write(dir.path(), ".gitignore", "generated/\nskip_me.py\n");
    write(dir.path(), "generated/leak.py", LEAK);
    write(dir.path(), "skip_me.py", LEAK);
    write(dir.path(), "sub/.ignore", "also_skipped.py\n");
    write(dir.path(), "sub/also_skipped.py", LEAK);
    write(dir.path(), ".hidden/leak.py", LEAK);
    write(dir.path(), "kept.py", LEAK);
    write(dir.path(), "notes.txt", LEAK);

    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.findings(), vec![("CL001".into(), "kept.py".into(), 2)]);
    assert_eq!(run.json()["files"], 1);

    // A file named on the command line is checked even when ignored.
    let explicit = connlint(dir.path(), &["check", "--format", "json", "skip_me.py"]);
    assert_eq!(
        explicit.findings(),
        vec![("CL001".into(), "skip_me.py".into(), 2)]
    );

    let no_ignore = connlint(dir.path(), &["check", "--format", "json", "--no-ignore"]);
    let paths: Vec<String> = no_ignore
        .findings()
        .into_iter()
        .map(|(_, p, _)| p)
        .collect();
    assert_eq!(
        paths,
        [
            "generated/leak.py",
            "kept.py",
            "skip_me.py",
            "sub/also_skipped.py"
        ]
    );
}

#[test]
fn walked_paths_keep_the_form_they_were_given_in() {
    let dir = tempdir();
    write(dir.path(), "src/pkg/db.py", LEAK);
    let relative = connlint(dir.path(), &["check", "--format", "json", "src"]);
    assert_eq!(
        relative.findings(),
        vec![("CL001".into(), "src/pkg/db.py".into(), 2)]
    );
    let dotted = connlint(dir.path(), &["check", "--format", "json", "./src"]);
    assert_eq!(
        dotted.findings(),
        vec![("CL001".into(), "src/pkg/db.py".into(), 2)]
    );
    let absolute = dir.path().join("src");
    let run = connlint(
        dir.path(),
        &["check", "--format", "json", absolute.to_str().unwrap()],
    );
    let expected = dir.path().join("src/pkg/db.py");
    assert_eq!(
        run.findings(),
        vec![("CL001".into(), expected.to_str().unwrap().into(), 2)]
    );
}

// ---------------------------------------------------------------------------------------------
// `connlint rule`

#[test]
fn rule_prints_documentation_and_lists_rules() {
    let dir = tempdir();
    let doc = connlint(dir.path(), &["rule", "CL001"]);
    assert_eq!(doc.code, 0);
    assert!(
        doc.stdout.starts_with("# CL001 connection-not-released\n"),
        "{}",
        doc.stdout
    );
    for heading in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "Use instead:",
        "## Known limitations",
    ] {
        assert!(doc.stdout.contains(heading), "{heading}");
    }
    let by_name = connlint(dir.path(), &["rule", "connection-not-released"]);
    assert_eq!(by_name.stdout, doc.stdout);

    let all = connlint(dir.path(), &["rule", "--all"]);
    assert_eq!(all.code, 0);
    let lines: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(lines.len(), connlint_rules::all_rules().len());
    let first: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        &first[..4],
        ["CL001", "connection-not-released", "error", "on"]
    );
    assert!(lines[0].contains("Checks for connections"), "{}", lines[0]);
    assert_eq!(connlint(dir.path(), &["rule"]).stdout, all.stdout);

    let unknown = connlint(dir.path(), &["rule", "CL999"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(unknown.stdout, "");
    assert!(
        unknown.stderr.contains("unknown rule `CL999`"),
        "{}",
        unknown.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[test]
fn connlint_toml_selects_ignores_and_excludes() {
    let dir = tempdir();
    write(
        dir.path(),
        "all.py",
        format!("{LEAK}\n{LEAK_ON_EXCEPTION}\n{WITH_CONNECT}"),
    );
    write(dir.path(), "migrations/0001.py", LEAK);
    write(dir.path(), "app/migrations/0002.py", LEAK);
    write(dir.path(), "tests/fixtures/f.py", LEAK);
    write(dir.path(), "tests/test_x.py", LEAK);
    write(dir.path(), "schema_pb2.py", LEAK);
    write(
        dir.path(),
        "connlint.toml",
        "select = [\"CL00\"]\nignore = [\"CL008\"]\nexclude = [\"migrations\", \"tests/fixtures/**\", \"*_pb2.py\"]\n",
    );
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![
            ("CL001".into(), "all.py".into(), 2),
            ("CL002".into(), "all.py".into(), 8),
            ("CL001".into(), "tests/test_x.py".into(), 2),
        ]
    );
    // Found from a subdirectory too, with `exclude` still relative to the file's folder.
    let sub = connlint(
        &dir.path().join("tests"),
        &["check", "--format", "json", "."],
    );
    assert_eq!(
        sub.findings(),
        vec![("CL001".into(), "test_x.py".into(), 2)]
    );

    // The command line's --select replaces the configured set; --ignore removes from it.
    let cli = connlint(
        dir.path(),
        &["check", "--format", "json", "--select", "CL008", "all.py"],
    );
    assert_eq!(codes(&cli), ["CL008"]);
    let cli = connlint(
        dir.path(),
        &["check", "--format", "json", "--ignore", "CL002", "all.py"],
    );
    assert_eq!(codes(&cli), ["CL001"]);
}

#[test]
fn pyproject_tool_connlint_is_read_and_other_tables_are_left_alone() {
    let dir = tempdir();
    write(dir.path(), "all.py", format!("{LEAK}\n{LEAK_ON_EXCEPTION}"));
    write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"demo\"\n\n[tool.black]\nline-length = 100\n\n[tool.connlint]\nignore = [\"CL001\"]\n",
    );
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(codes(&run), ["CL002"]);

    // A pyproject.toml without [tool.connlint] is not a configuration: the search goes on up.
    let inner = dir.path().join("inner");
    write(&inner, "pyproject.toml", "[project]\nname = \"inner\"\n");
    write(&inner, "x.py", LEAK);
    let run = connlint(&inner, &["check", "--format", "json"]);
    assert_eq!(codes(&run), Vec::<String>::new());

    // connlint.toml beats pyproject.toml in the same folder.
    write(dir.path(), "connlint.toml", "select = [\"CL001\"]\n");
    let run = connlint(dir.path(), &["check", "--format", "json", "all.py"]);
    assert_eq!(codes(&run), ["CL001"]);
}

#[test]
fn config_flag_names_the_file_and_understands_pyproject() {
    let dir = tempdir();
    write(dir.path(), "all.py", format!("{LEAK}\n{LEAK_ON_EXCEPTION}"));
    write(dir.path(), "connlint.toml", "select = [\"CL001\"]\n");
    write(dir.path(), "conf/strict.toml", "select = [\"CL002\"]\n");
    write(
        dir.path(),
        "conf/pyproject.toml",
        "[tool.connlint]\nignore = [\"CL002\"]\n",
    );
    let run = connlint(
        dir.path(),
        &["check", "--format", "json", "--config", "conf/strict.toml"],
    );
    assert_eq!(codes(&run), ["CL002"]);
    let run = connlint(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--config",
            "conf/pyproject.toml",
        ],
    );
    assert_eq!(codes(&run), ["CL001"]);
    let missing = connlint(dir.path(), &["check", "--config", "conf/nope.toml"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("conf/nope.toml"),
        "{}",
        missing.stderr
    );
}

#[test]
fn cargo_toml_metadata_is_read_after_connlint_toml_and_pyproject() {
    let dir = tempdir();
    write(dir.path(), "all.py", format!("{LEAK}\n{LEAK_ON_EXCEPTION}"));
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n\n\
         [package.metadata.other-tool]\nx = 1\n\n\
         [package.metadata.connlint]\nignore = [\"CL001\"]\n",
    );
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(codes(&run), ["CL002"]);

    // A member crate without the table: the search goes on up to the workspace's.
    let member = dir.path().join("member");
    write(
        &member,
        "Cargo.toml",
        "[package]\nname = \"member\"\nversion = \"0.1.0\"\n# uses connlint from the workspace\n",
    );
    write(&member, "x.py", format!("{LEAK}\n{LEAK_ON_EXCEPTION}"));
    let run = connlint(&member, &["check", "--format", "json"]);
    assert_eq!(codes(&run), ["CL002"]);

    write(
        dir.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"member\"]\n\n[workspace.metadata.connlint]\nselect = [\"CL001\"]\n",
    );
    let run = connlint(&member, &["check", "--format", "json"]);
    assert_eq!(codes(&run), ["CL001"]);

    // pyproject.toml comes before Cargo.toml, connlint.toml before both.
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.connlint]\nselect = [\"CL002\"]\n",
    );
    assert_eq!(
        codes(&connlint(
            dir.path(),
            &["check", "--format", "json", "all.py"]
        )),
        ["CL002"]
    );
    write(dir.path(), "connlint.toml", "ignore = [\"CL002\"]\n");
    assert_eq!(
        codes(&connlint(
            dir.path(),
            &["check", "--format", "json", "all.py"]
        )),
        ["CL001"]
    );
    // --config names a Cargo.toml.
    let named = connlint(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--config",
            "Cargo.toml",
            "all.py",
        ],
    );
    assert_eq!(codes(&named), ["CL001"]);

    // Both tables in one manifest, or a mistake in the table, are errors.
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"d\"\n[package.metadata.connlint]\nignore = []\n\
         [workspace.metadata.connlint]\nignore = []\n",
    );
    let both = connlint(dir.path(), &["check", "--config", "Cargo.toml", "all.py"]);
    assert_eq!(both.code, 2);
    assert!(
        both.stderr
            .contains("Cargo.toml, line 5: both [package.metadata.connlint] and"),
        "{}",
        both.stderr
    );
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"d\"\n[package.metadata.connlint]\nignor = []\n",
    );
    let typo = connlint(dir.path(), &["check", "--config", "Cargo.toml", "all.py"]);
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr
            .contains("Cargo.toml, line 4: unknown field `ignor`"),
        "{}",
        typo.stderr
    );
}

#[test]
fn this_repositorys_own_pyproject_and_cargo_toml_are_not_configurations() {
    // Both mention connlint, neither has a connlint table: checking from the repository root
    // must work (and find the default rules).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join("pyproject.toml").is_file());
    let run = connlint_with_stdin(
        root,
        &["check", "--stdin-filename", "x.py", "--format", "json"],
        Some(format!("{LEAK}\n{LEAK_ON_EXCEPTION}").as_bytes()),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(codes(&run), ["CL001", "CL002"]);
}

#[test]
fn rust_files_named_on_the_command_line_are_analysed() {
    let dir = tempdir();
    write(dir.path(), "lib.rs", "fn main() { let x = 1; }\n");
    write(dir.path(), "a.py", LEAK);
    let run = connlint(
        dir.path(),
        &["check", "--format", "json", "--strict", "lib.rs", "a.py"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.json()["files"], 2);
    assert_eq!(run.problems(), vec![]);
}

#[test]
fn bad_configuration_is_an_error_naming_the_file_and_line() {
    let dir = tempdir();
    write(dir.path(), "a.py", CLEAN);
    let cases = [
        (
            "select = [\"CL001\"]\nselct = [\"CL002\"]\n",
            "connlint.toml, line 2: unknown field `selct`",
        ),
        (
            "select = \"CL001\"\n",
            "connlint.toml, line 1: invalid type: string \"CL001\", expected a sequence",
        ),
        (
            "ignore = [\"CL001\",\n  \"CL999\"]\n",
            "connlint.toml, line 2: unknown rule `CL999`",
        ),
        ("select = [\n", "connlint.toml, line 1:"),
        (
            "exclude = [\"a[b\"]\n",
            "connlint.toml, line 1: `a[b` in `exclude` is not a valid glob",
        ),
    ];
    for (text, expected) in cases {
        write(dir.path(), "connlint.toml", text);
        let run = connlint(dir.path(), &["check"]);
        assert_eq!(run.code, 2, "{text}");
        assert!(run.stderr.contains(expected), "{text}:\n{}", run.stderr);
        assert_eq!(run.stdout, "");
    }
    fs::remove_file(dir.path().join("connlint.toml")).unwrap();
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.connlint]\nselect = [\"CL001\"]\nmax_connections = 5\n",
    );
    let run = connlint(dir.path(), &["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("pyproject.toml, line 3: unknown field `max_connections`"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input: a problem entry each, the other files still analysed, never a crash

#[test]
fn a_syntax_error_is_a_problem_and_intact_functions_are_still_checked() {
    let dir = tempdir();
    write(
        dir.path(),
        "broken.py",
        format!("def broken(:\n    pass\n\n{LEAK}"),
    );
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.findings(),
        vec![("CL001".into(), "broken.py".into(), 5)]
    );
    let problems = run.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "broken.py");
    assert!(
        problems[0].1.starts_with("line 1, column "),
        "{}",
        problems[0].1
    );
    assert!(problems[0].1.contains("syntax error"), "{}", problems[0].1);

    let human = connlint(dir.path(), &["check"]);
    assert!(
        human.stderr.contains("warning: broken.py: line 1, column "),
        "{}",
        human.stderr
    );
    assert!(
        human
            .stderr
            .ends_with("Found 1 finding in 1 file (1 file checked, 1 problem).\n"),
        "{}",
        human.stderr
    );

    // --strict: a file that could not be fully analysed makes the exit code 2.
    assert_eq!(connlint(dir.path(), &["check", "--strict"]).code, 2);
}

#[test]
fn non_utf8_binary_and_too_large_files_are_skipped_with_a_problem() {
    let dir = tempdir();
    write(dir.path(), "latin1.py", b"# caf\xe9\nx = 1\n");
    write(dir.path(), "blob.py", b"x = 1\n\0\0\0\x7fELF");
    let big = fs::File::create(dir.path().join("huge.py")).unwrap();
    big.set_len(40 * 1024 * 1024).unwrap();
    write(dir.path(), "leak.py", LEAK);
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.findings(), vec![("CL001".into(), "leak.py".into(), 2)]);
    assert_eq!(
        run.problems(),
        vec![
            ("blob.py".into(), "binary file; skipped".into()),
            (
                "huge.py".into(),
                "file is 40.0 MiB, over the 32 MiB limit; skipped".into()
            ),
            (
                "latin1.py".into(),
                "not valid UTF-8 (first bad byte at offset 5); skipped".into()
            ),
        ]
    );
    assert_eq!(run.json()["files"], 4);
    assert_eq!(connlint(dir.path(), &["check", "--strict"]).code, 2);
    // Without --strict, skipped files alone do not fail the run.
    fs::remove_file(dir.path().join("leak.py")).unwrap();
    assert_eq!(connlint(dir.path(), &["check"]).code, 0);
}

#[test]
fn unreadable_files_and_symlink_loops_are_problems() {
    let dir = tempdir();
    write(dir.path(), "leak.py", LEAK);
    write(dir.path(), "locked.py", LEAK);
    std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
    std::os::unix::fs::symlink("missing.py", dir.path().join("dangling.py")).unwrap();
    let locked = dir.path().join("locked.py");
    fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    // root reads anything: then the file is simply analysed.
    let is_root = fs::read(&locked).is_ok();

    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    let problems = run.problems();
    assert!(
        problems
            .iter()
            .any(|(p, m)| p == "loop" && m.starts_with("symlink loop")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|(p, m)| p == "dangling.py" && m.starts_with("cannot read")),
        "{problems:?}"
    );
    if !is_root {
        assert!(
            problems
                .iter()
                .any(|(p, m)| p == "locked.py" && m.starts_with("cannot read")),
            "{problems:?}"
        );
    }
    assert!(run
        .findings()
        .contains(&("CL001".into(), "leak.py".into(), 2)));
    fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
}

#[test]
fn a_ten_megabyte_file_finishes() {
    let dir = tempdir();
    let mut text = String::with_capacity(10_500_000);
    let mut i = 0;
    while text.len() < 10_000_000 {
        if i % 100 == 0 {
            text.push_str(&LEAK.replace("def load(", &format!("def load_{i}(")));
        } else {
            text.push_str(&format!(
                "def helper_{i}(items, factor={i}):\n    total = 0\n    for item in items:\n        if item > factor:\n            total += item * factor\n    return total\n"
            ));
        }
        text.push('\n');
        i += 1;
    }
    write(dir.path(), "generated.py", &text);
    let started = std::time::Instant::now();
    // The human format, whose snippets must not rescan the file for every finding.
    let run = connlint(dir.path(), &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let leaks = (0..i).step_by(100).count();
    assert_eq!(
        run.stdout
            .matches("× CL001 connection-not-released")
            .count(),
        leaks
    );
    assert!(
        run.stderr
            .starts_with(&format!("Found {leaks} findings in 1 file")),
        "{}",
        run.stderr
    );
    assert!(
        started.elapsed().as_secs() < 120,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn deep_nesting_never_crashes() {
    let dir = tempdir();
    let depth = 5000;
    let parens = format!("x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    write(dir.path(), "parens.py", &parens);
    let parens_in_function = format!(
        "def f(pool):\n    conn = pool.getconn()\n    x = {}conn{}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    write(dir.path(), "parens_in_function.py", &parens_in_function);
    let mut ifs = String::from("def f(pool):\n conn = pool.getconn()\n");
    for level in 1..depth {
        ifs.push_str(&" ".repeat(level));
        ifs.push_str("if True:\n");
    }
    ifs.push_str(&" ".repeat(depth));
    ifs.push_str("pool.putconn(conn)\n");
    write(dir.path(), "ifs.py", &ifs);
    let chain = format!(
        "def f(pool):\n    conn = pool.getconn()\n    return {}\n",
        vec!["conn"; depth].join(" + ")
    );
    write(dir.path(), "chain.py", &chain);
    let plain_chain = format!("def f(a):\n    return {}\n", vec!["a"; depth].join(" + "));
    write(dir.path(), "plain_chain.py", &plain_chain);
    write(dir.path(), "leak.py", LEAK);

    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert!(matches!(run.code, 0 | 1), "{}\n{}", run.code, run.stderr);
    assert_eq!(run.json()["files"], 6);
    assert!(run
        .findings()
        .contains(&("CL001".into(), "leak.py".into(), 2)));
    let strict = connlint(dir.path(), &["check", "--strict"]);
    assert!(matches!(strict.code, 0..=2), "{}", strict.stderr);
}

#[test]
fn declared_functions_in_configuration_acquire_and_release_across_files() {
    let dir = tempdir();
    write(
        dir.path(),
        "connlint.toml",
        "[functions]\nacquire = [\"vendor.db.borrow\", \".take\"]\nrelease = [\"vendor.db.give_back\"]\n",
    );
    write(
        dir.path(),
        "app/tools.py",
        "from vendor.db import borrow, give_back\n\n\ndef leaks():\n    conn = borrow()\n    conn.cursor()\n\n\ndef gives_back():\n    conn = borrow()\n    try:\n        conn.cursor()\n    finally:\n        give_back(conn)\n\n\ndef by_method(client):\n    return client.take().closed\n",
    );
    let run = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found: Vec<(u64, String)> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![(5, "CL001".to_string()), (18, "CL001".to_string())]
    );

    write(
        dir.path(),
        "connlint.toml",
        "[functions]\nacquire = [\"vendor db\"]\n",
    );
    let run = connlint(dir.path(), &["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`vendor db` is not a function name"),
        "{}",
        run.stderr
    );
}

#[test]
fn declared_slow_awaits_are_reported_by_cl006_in_python_and_rust() {
    let dir = tempdir();
    write(
        dir.path(),
        "svc/quotes.py",
        "from svc.clients import fetch_quote\n\n\nasync def by_method(pool, client):\n    conn = await pool.acquire()\n    try:\n        other = await client.call_remote()\n        await conn.execute(\"select 1\")\n    finally:\n        await pool.release(conn)\n\n\nasync def by_import(pool):\n    conn = await pool.acquire()\n    try:\n        quote = await fetch_quote(\"X\")\n    finally:\n        await pool.release(conn)\n",
    );
    write(
        dir.path(),
        "src/main.rs",
        "use crate::rpc::invoke;\n\nasync fn refresh(pool: &sqlx::PgPool) {\n    let mut conn = pool.acquire().await.unwrap();\n    let reply = invoke(\"x\").await;\n    sqlx::query(\"select 1\").execute(&mut *conn).await.unwrap();\n}\n",
    );
    let cl006 = |run: &Run| -> Vec<(String, u64)> {
        run.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "CL006")
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // Unknown calls are assumed quick.
    let run = connlint(dir.path(), &["check", "--no-cache", "--format", "json"]);
    assert_eq!(cl006(&run), Vec::<(String, u64)>::new(), "{}", run.stderr);

    write(
        dir.path(),
        "connlint.toml",
        "[functions]\nslow-await = [\"svc.clients.fetch_quote\", \".call_remote\", \"crate::rpc::invoke\"]\n",
    );
    let run = connlint(dir.path(), &["check", "--no-cache", "--format", "json"]);
    let mut found = cl006(&run);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("src/main.rs".to_string(), 4),
            ("svc/quotes.py".to_string(), 5),
            ("svc/quotes.py".to_string(), 14),
        ],
        "{}",
        run.stdout
    );
    let shown = connlint(dir.path(), &["config"]);
    assert!(
        shown
            .stdout
            .contains("slow-await = [\"svc.clients.fetch_quote\""),
        "{}",
        shown.stdout
    );
}

#[test]
fn extend_select_adds_rules_that_are_off_by_default() {
    let dir = tempdir();
    write(
        dir.path(),
        "jobs.py",
        "import asyncpg\n\n\nasync def load(pool: asyncpg.Pool):\n    conn = await pool.acquire()\n    return await conn.fetch(\"select 1\")\n",
    );
    let codes = |run: &Run| -> Vec<String> {
        let mut codes: Vec<String> = run.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect();
        codes.sort();
        codes
    };
    let json = ["check", "--no-cache", "--format", "json"];
    assert_eq!(codes(&connlint(dir.path(), &json)), ["CL001"]);
    let extended = [&json[..], &["--extend-select", "CL012"]].concat();
    assert_eq!(codes(&connlint(dir.path(), &extended)), ["CL001", "CL012"]);
    write(dir.path(), "connlint.toml", "extend-select = [\"CL012\"]\n");
    assert_eq!(codes(&connlint(dir.path(), &json)), ["CL001", "CL012"]);
    // `--select` replaces the file's selection; `ignore` wins over `extend-select`.
    let selected = [&json[..], &["--select", "CL001"]].concat();
    assert_eq!(codes(&connlint(dir.path(), &selected)), ["CL001"]);
    write(
        dir.path(),
        "connlint.toml",
        "extend-select = [\"CL012\"]\nignore = [\"CL012\"]\n",
    );
    assert_eq!(codes(&connlint(dir.path(), &extended)), ["CL001"]);
    write(dir.path(), "connlint.toml", "extend-select = [\"CL999\"]\n");
    let run = connlint(dir.path(), &json);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn pool_limits_of_the_configuration_apply_to_rust_files() {
    let dir = tempdir();
    write(
        dir.path(),
        "src/main.rs",
        "use sqlx::postgres::PgPoolOptions;\n\n#[tokio::main]\nasync fn main() {\n    let pool = PgPoolOptions::new().max_connections(50).connect(\"postgres://db\").await.unwrap();\n}\n",
    );
    let codes = |run: &Run| -> Vec<String> {
        run.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    let json = ["check", "--no-cache", "--format", "json"];
    assert_eq!(codes(&connlint(dir.path(), &json)), Vec::<String>::new());
    write(
        dir.path(),
        "connlint.toml",
        "max-pool-size = 20\n[budget]\nmax-connections = 40\n",
    );
    // CL011 at the construction, CL004 at its `max_connections(50)`.
    assert_eq!(codes(&connlint(dir.path(), &json)), ["CL011", "CL004"]);
}

#[test]
fn a_budget_of_many_pools_names_the_largest_and_sums_the_rest() {
    let dir = tempdir();
    let mut text = String::from("from psycopg2.pool import ThreadedConnectionPool\n\n");
    for i in 0..12 {
        let size = if i == 11 { 50 } else { 20 };
        text.push_str(&format!(
            "POOL_{i} = ThreadedConnectionPool(1, {size}, \"dbname=app\")\n"
        ));
    }
    write(dir.path(), "pools.py", &text);
    let run = connlint(dir.path(), &["check", "--no-cache", "--format", "json"]);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    let budget: Vec<&serde_json::Value> =
        findings.iter().filter(|f| f["code"] == "CL011").collect();
    assert_eq!(budget.len(), 12, "{}", run.stdout);
    let message = budget[0]["message"].as_str().unwrap();
    assert!(
        message.contains("270 connections")
            && message.contains("(50 + 20 + 20 + 20 + 20 + 20 + 20 + 20 + 80 from 4 more pools)"),
        "{message}"
    );
}

#[test]
fn the_analysis_cache_speeds_up_runs_without_changing_their_results() {
    let dir = tempdir();
    let db = "\
import psycopg2

def get_conn():
    return psycopg2.connect(\"dbname=app\")
";
    let tools = "\
from app.db import get_conn

def report():
    conn = get_conn()
    return conn.cursor().execute(\"select 1\")
";
    write(dir.path(), "app/db.py", db);
    write(dir.path(), "app/tools.py", tools);
    let args = ["check", "--format", "json", "app"];

    let cold = connlint(dir.path(), &args);
    cold.assert_no_crash();
    assert!(
        cold.findings()
            .iter()
            .any(|(code, path, _)| path == "app/tools.py" && code == "CL001"),
        "{}",
        cold.stdout
    );
    let cache = dir.path().join(".connlint_cache");
    assert!(cache.join(".gitignore").is_file());
    assert!(cache.join("CACHEDIR.TAG").is_file());

    let warm = connlint(dir.path(), &args);
    assert_eq!(warm.stdout, cold.stdout);
    assert_eq!(warm.code, cold.code);

    // The factory changes; the caller's file does not, and its finding must go.
    write(
        dir.path(),
        "app/db.py",
        db.replace("return psycopg2", "psycopg2"),
    );
    let edited = connlint(dir.path(), &args);
    let fresh = connlint(
        dir.path(),
        &["check", "--no-cache", "--format", "json", "app"],
    );
    assert_eq!(edited.stdout, fresh.stdout);
    assert!(
        !edited
            .findings()
            .iter()
            .any(|(_, path, _)| path == "app/tools.py"),
        "{}",
        edited.stdout
    );

    // A damaged cache is a cold run, not an error.
    for entry in std::fs::read_dir(cache.join(env!("CARGO_PKG_VERSION"))).unwrap() {
        std::fs::write(entry.unwrap().path(), b"\xff\x00garbage").unwrap();
    }
    let damaged = connlint(dir.path(), &args);
    assert_eq!(damaged.stdout, fresh.stdout);
    assert_eq!(damaged.stderr, "");

    // --no-cache and standard input neither read nor write one; --cache-dir moves it.
    let other = tempdir();
    write(other.path(), "leak.py", LEAK);
    assert_eq!(
        connlint(other.path(), &["check", "--no-cache", "leak.py"]).code,
        1
    );
    let piped = connlint_with_stdin(
        other.path(),
        &["check", "--stdin-filename", "x.py"],
        Some(LEAK.as_bytes()),
    );
    assert_eq!(piped.code, 1);
    assert!(!other.path().join(".connlint_cache").exists());
    assert_eq!(
        connlint(other.path(), &["check", "--cache-dir", "c", "leak.py"]).code,
        1
    );
    assert!(other.path().join("c").join(".gitignore").is_file());
    assert!(!other.path().join(".connlint_cache").exists());

    // A cache that cannot be written is a warning; the run's result stands.
    write(other.path(), "blocker", "a file, not a folder");
    let blocked = connlint(
        other.path(),
        &["check", "--cache-dir", "blocker/c", "leak.py"],
    );
    assert_eq!(blocked.code, 1);
    assert!(
        blocked.stderr.contains("warning: cannot write the cache"),
        "{}",
        blocked.stderr
    );
}

#[test]
fn the_budget_counts_processes_and_declared_copies_across_files() {
    let dir = tempdir();
    write(
        dir.path(),
        "svc/db.py",
        "from sqlalchemy import create_engine\n\nENGINE = create_engine(\"postgresql://db/app\", pool_size=20, max_overflow=10)\n",
    );
    write(
        dir.path(),
        "svc/tenants.py",
        "import functools\nimport psycopg2.pool\n\n\n@functools.lru_cache(maxsize=None)\ndef pool_for(tenant):\n    return psycopg2.pool.ThreadedConnectionPool(1, 10, dbname=tenant)\n",
    );
    let budget = |run: &Run| -> Vec<(String, u64)> {
        run.findings()
            .into_iter()
            .filter(|(code, _, _)| code == "CL011")
            .map(|(_, path, line)| (path, line))
            .collect()
    };
    // 30 + 10 = 40: fits in 100.
    let alone = connlint(dir.path(), &["check", "--format", "json", "svc"]);
    assert!(budget(&alone).is_empty(), "{}", alone.stdout);

    // Three processes: 120 connections, reported at both pools, in both files.
    write(dir.path(), "connlint.toml", "[budget]\nprocesses = 3\n");
    let three = connlint(dir.path(), &["check", "--format", "json", "svc"]);
    assert_eq!(
        budget(&three),
        [
            ("svc/db.py".to_string(), 3),
            ("svc/tenants.py".to_string(), 7)
        ],
        "{}",
        three.stdout
    );
    let message = three.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "CL011")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        message,
        "PostgreSQL pools may open at least 120 connections, above max-connections = 100: 3 processes x (30 + 10)"
    );

    // One process, but the per-tenant pool declared as 8 copies: 30 + 80 = 110.
    write(
        dir.path(),
        "connlint.toml",
        "[budget]\nmax-connections = 100\n\n[budget.multiplicity]\n\"svc/tenants.py:pool_for\" = 8\n",
    );
    let tenants = connlint(dir.path(), &["check", "--format", "json", "svc"]);
    assert_eq!(budget(&tenants).len(), 2, "{}", tenants.stdout);
    assert!(
        tenants.stdout.contains("110 connections"),
        "{}",
        tenants.stdout
    );
    assert!(
        tenants.stdout.contains("(30 + 8 x 10)"),
        "{}",
        tenants.stdout
    );

    write(dir.path(), "connlint.toml", "[budget]\nprocesses = 0\n");
    let bad = connlint(dir.path(), &["check", "svc"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("`processes` must be a whole number above 0"),
        "{}",
        bad.stderr
    );
}

#[test]
fn config_prints_the_effective_configuration_and_its_sources() {
    let dir = tempdir();
    let defaults = connlint(dir.path(), &["config"]);
    assert_eq!(defaults.code, 0, "{}", defaults.stderr);
    assert!(
        defaults.stdout.starts_with("# no configuration file found"),
        "{}",
        defaults.stdout
    );
    assert!(
        defaults.stdout.contains("max-pool-size = 100  # default\n"),
        "{}",
        defaults.stdout
    );
    assert!(
        defaults.stdout.contains("processes = 1  # default\n"),
        "{}",
        defaults.stdout
    );

    write(
        dir.path(),
        "pyproject.toml",
        "[tool.connlint]\nignore = [\"CL008\"]\nmax-pool-size = 40\n\n[tool.connlint.budget]\nprocesses = 6\n\n[tool.connlint.per-file-ignores]\n\"tests/**\" = [\"CL001\"]\n",
    );
    let set = connlint(dir.path(), &["config"]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    for line in [
        "# configuration file: pyproject.toml\n",
        "ignore = [\"CL008\"]  # pyproject.toml\n",
        "max-pool-size = 40  # pyproject.toml\n",
        "processes = 6  # pyproject.toml\n",
        "max-connections = 100  # default: PostgreSQL's max_connections\n",
        "\"tests/**\" = [\"CL001\"]  # pyproject.toml\n",
    ] {
        assert!(
            set.stdout.contains(line),
            "missing {line:?} in:\n{}",
            set.stdout
        );
    }
    assert!(
        !set.stdout
            .contains("rules that run: CL001, CL002, CL003, CL004, CL005, CL008"),
        "{}",
        set.stdout
    );

    write(
        dir.path(),
        "pyproject.toml",
        "[tool.connlint]\nmax-pool-size = \"big\"\n",
    );
    let bad = connlint(dir.path(), &["config"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("pyproject.toml, line 2"),
        "{}",
        bad.stderr
    );
}

#[test]
fn the_configuration_is_found_from_the_first_checked_path_upwards() {
    let dir = tempdir();
    write(dir.path(), "svc/app.py", WITH_CONNECT);
    write(dir.path(), "svc/connlint.toml", "ignore = [\"CL008\"]\n");
    write(dir.path(), "connlint.toml", "select = [\"CL008\"]\n");
    // From the root, checking `svc`: svc/connlint.toml applies, so CL008 is ignored.
    let service = connlint(dir.path(), &["check", "svc"]);
    assert_eq!(service.code, 0, "{}{}", service.stdout, service.stderr);
    let file = connlint(dir.path(), &["check", "svc/app.py"]);
    assert_eq!(file.code, 0, "{}{}", file.stdout, file.stderr);
    // Checking the root uses the root's configuration.
    let root = connlint(dir.path(), &["check", "."]);
    assert_eq!(root.code, 1, "{}{}", root.stdout, root.stderr);
    // A broken configuration is shown with its path relative to the current directory.
    write(dir.path(), "svc/connlint.toml", "ignore = 3\n");
    let broken = connlint(dir.path(), &["check", "svc"]);
    assert_eq!(broken.code, 2);
    assert!(
        broken.stderr.contains("svc/connlint.toml, line 1"),
        "{}",
        broken.stderr
    );
}

#[test]
fn files_without_connection_code_are_not_parsed_unless_asked() {
    let dir = tempdir();
    write(dir.path(), "maths.py", "def area(r:\n    return r * r\n");
    write(dir.path(), "db.py", LEAK);
    let filtered = connlint(dir.path(), &["check", "--format", "json", "--strict", "."]);
    assert_eq!(filtered.code, 1, "{}{}", filtered.stdout, filtered.stderr);
    assert!(filtered.problems().is_empty(), "{}", filtered.stdout);
    let all = connlint(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--strict",
            "--no-prefilter",
            ".",
        ],
    );
    assert_eq!(all.code, 2, "{}{}", all.stdout, all.stderr);
    assert_eq!(all.problems().len(), 1, "{}", all.stdout);
    assert_eq!(all.findings(), filtered.findings());
}

/// Under an address-space limit (`ulimit -v`) the analysis threads do not reserve the deep
/// stacks that let Rust files be parsed in place (two would take 544 MiB of the 450 MB here);
/// the run gives the same findings as without the limit.
#[cfg(target_os = "linux")]
#[test]
fn an_address_space_limit_gives_the_same_findings() {
    let dir = tempdir();
    write(dir.path(), "leak.py", LEAK);
    write(
        dir.path(),
        "forget.rs",
        fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("corpus/connection-forgotten/forget_and_leak.rs"),
        )
        .unwrap(),
    );
    let free = connlint(dir.path(), &["check", "--no-cache", "--format", "json"]);
    assert_eq!(free.code, 1, "{}", free.stderr);
    // Threads beyond two would need room of their own whatever their stacks.
    let limited = common::run(
        Path::new("sh"),
        dir.path(),
        &[
            "-c",
            "export RAYON_NUM_THREADS=2; ulimit -v 450000 && exec \"$0\" check --no-cache --format json",
            env!("CARGO_BIN_EXE_connlint"),
        ],
    );
    assert_eq!(limited.code, 1, "{}", limited.stderr);
    assert_eq!(limited.findings(), free.findings());
    assert!(
        free.findings()
            .iter()
            .any(|(_, path, _)| path == "forget.rs"),
        "{:?}",
        free.findings()
    );
}
