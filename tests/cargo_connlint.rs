//! `cargo connlint`: the `cargo-connlint` binary, run by cargo itself from the PATH, checks like
//! `connlint check` and reads `[package.metadata.connlint]`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{connlint, run, tempdir, write, LEAK, LEAK_ON_EXCEPTION};

fn cargo_connlint_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cargo-connlint"))
}

/// A tiny Rust package whose metadata ignores CL001, with Python files in it.
fn rust_project() -> tempfile::TempDir {
    let dir = tempdir();
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [package.metadata.connlint]\nignore = [\"CL001\"]\n",
    );
    write(dir.path(), "src/main.rs", "fn main() {}\n");
    write(
        dir.path(),
        "scripts/db.py",
        format!("{LEAK}\n{LEAK_ON_EXCEPTION}"),
    );
    dir
}

#[test]
fn cargo_connlint_runs_check_with_the_manifests_configuration() {
    let dir = rust_project();
    // As cargo calls it: the subcommand's name comes first.
    let checked = run(
        cargo_connlint_bin(),
        dir.path(),
        &["connlint", "--format", "json"],
    );
    assert_eq!(checked.code, 1, "{}", checked.stderr);
    assert_eq!(
        checked.findings(),
        vec![("CL002".into(), "scripts/db.py".into(), 8)]
    );
    // The same as `connlint check`.
    let plain = connlint(dir.path(), &["check", "--format", "json"]);
    assert_eq!(plain.stdout, checked.stdout);

    // Subcommands and flags pass through.
    let rule = run(
        cargo_connlint_bin(),
        dir.path(),
        &["connlint", "rule", "CL001"],
    );
    assert_eq!(rule.code, 0);
    assert!(rule.stdout.starts_with("# CL001 connection-not-released"));
    let version = run(cargo_connlint_bin(), dir.path(), &["connlint", "--version"]);
    assert_eq!(
        version.stdout,
        format!("connlint {}\n", env!("CARGO_PKG_VERSION"))
    );
    let usage = run(cargo_connlint_bin(), dir.path(), &["connlint", "--nope"]);
    assert_eq!(usage.code, 2);
    assert!(
        usage.stderr.contains("cargo connlint check"),
        "{}",
        usage.stderr
    );
    let clean = run(
        cargo_connlint_bin(),
        dir.path(),
        &["connlint", "--select", "CL008"],
    );
    assert_eq!(clean.code, 0, "{}", clean.stderr);
}

#[test]
fn cargo_finds_it_on_the_path() {
    let dir = rust_project();
    let bin_dir = cargo_connlint_bin().parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["connlint", "--format", "json"])
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["findings"][0]["code"], "CL002");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
}
