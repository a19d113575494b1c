//! The pre-commit hook, end to end: pre-commit from PyPI (in `target/test-venv`) runs this
//! repository's published hook with `pre-commit try-repo`, exactly as a user's
//! `.pre-commit-config.yaml` would, in a temporary git repository: a leaky file fails it, the
//! fixed file passes.
//!
//! The hook is `language: rust`, so pre-commit builds connlint with a release `cargo install`
//! of a clone of this repository. Cold, that build took 6 minutes on this project's 2-core
//! machine; the test points it (through `CARGO_TARGET_DIR`, which pre-commit passes on to
//! cargo when it uses the system toolchain) at `target/wheel-build`, the folder the wheel test
//! builds the same release binary in, so the two share compiled dependencies; a build with them
//! compiled takes about 1.5 minutes. On a clean checkout (CI) the three runs below share one
//! build; with uncommitted changes pre-commit snapshots the tree anew for each run and builds
//! each time. Needs the network (PyPI, crates.io) and Python; it runs when
//! `CONNLINT_NETWORK_TESTS=1` (as `scripts/test` sets).
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use common::{must, repo_root, skip_network_tests, target_dir, test_venv, write, CLEAN, LEAK};

fn published_hooks() -> String {
    fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap()
}

#[test]
fn the_published_hook_runs_connlint_check_on_python_and_rust_files() {
    let text = published_hooks();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines,
        [
            "- id: connlint",
            "  name: connlint",
            "  description: Find database-connection leaks and connection-pool misuse",
            "  entry: connlint check",
            "  language: rust",
            "  types_or: [python, rust]",
            "  require_serial: false",
        ]
    );
}

fn git(dir: &Path, args: &[&str]) -> Output {
    must(
        Command::new("git")
            .args([
                "-c",
                "user.name=connlint tests",
                "-c",
                "user.email=tests@invalid",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(dir),
    )
}

/// `pre-commit try-repo <this repository> connlint --files FILES` in `project`: whether it
/// passed, and what it said.
fn run_hook(venv: &Path, project: &Path, files: &[&str]) -> (bool, String) {
    let started = Instant::now();
    let output = Command::new(venv.join("bin/pre-commit"))
        .arg("try-repo")
        .arg(repo_root())
        .args(["connlint", "--files"])
        .args(files)
        .current_dir(project)
        .env("PRE_COMMIT_HOME", target_dir().join("pre-commit-home"))
        .env("PRE_COMMIT_COLOR", "never")
        .env("CARGO_TARGET_DIR", target_dir().join("wheel-build"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "pre-commit try-repo {files:?}: {:?} in {:.1?}",
        output.status,
        started.elapsed()
    );
    (output.status.success(), text)
}

#[test]
fn the_hook_fails_on_a_leak_and_passes_once_it_is_fixed() {
    if skip_network_tests("the pre-commit end-to-end test") {
        return;
    }
    let venv = test_venv(&["pre-commit"]);

    let project = tempfile::Builder::new()
        .prefix("connlint-precommit-")
        .tempdir()
        .unwrap();
    write(project.path(), "leaky.py", LEAK);
    // Not Python: the hook's `types_or` keeps it away from connlint, which would otherwise
    // check it as a file named on its command line and fail on the leak inside.
    write(project.path(), "notes.txt", LEAK);
    git(project.path(), &["init", "--quiet"]);
    git(project.path(), &["add", "--all"]);

    let (passed, output) = run_hook(&venv, project.path(), &["leaky.py", "notes.txt"]);
    assert!(!passed, "the hook passed on a leak:\n{output}");
    assert!(output.contains("connlint"), "{output}");
    assert!(output.contains("Failed"), "{output}");
    assert!(output.contains("CL001 connection-not-released"), "{output}");
    assert!(output.contains("leaky.py:2:12"), "{output}");
    assert!(!output.contains("notes.txt"), "{output}");

    write(project.path(), "leaky.py", CLEAN);
    let (passed, output) = run_hook(&venv, project.path(), &["leaky.py", "notes.txt"]);
    assert!(passed, "the hook failed on fixed code:\n{output}");
    assert!(output.contains("Passed"), "{output}");

    // Only a text file: nothing for the hook to run on.
    let (passed, output) = run_hook(&venv, project.path(), &["notes.txt"]);
    assert!(passed, "{output}");
    assert!(output.contains("(no files to check)Skipped"), "{output}");
}
