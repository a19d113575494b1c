//! The VS Code extension in `editors/vscode/`: its manifest declares what the README promises
//! (always checked), and it builds as a user or a packager builds it (`npm ci` from the
//! committed lockfile, then `npm run compile`, TypeScript to `out/`) in a copy of the folder, so
//! a type error or a lockfile out of step with `package.json` fails the test.
//!
//! The build needs the npm registry and Node.js with npm; it runs when
//! `CONNLINT_NETWORK_TESTS=1` (as `scripts/test` sets).
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{must, repo_root};

fn extension_dir() -> PathBuf {
    repo_root().join("editors/vscode")
}

fn manifest(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("package.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What the README's VS Code set-up relies on: the settings, the command, activation on both
/// languages, and `main` pointing at what `npm run compile` writes.
fn assert_manifest(manifest: &serde_json::Value) {
    assert_eq!(manifest["name"], "connlint");
    assert_eq!(manifest["main"], "./out/extension.js");
    let activation = manifest["activationEvents"].as_array().unwrap();
    for event in ["onLanguage:python", "onLanguage:rust"] {
        assert!(activation.iter().any(|e| e == event), "{activation:?}");
    }
    let settings = &manifest["contributes"]["configuration"]["properties"];
    assert_eq!(settings["connlint.path"]["type"], "string");
    assert_eq!(settings["connlint.path"]["default"], "connlint");
    assert_eq!(settings["connlint.args"]["type"], "array");
    assert_eq!(settings["connlint.args"]["default"], serde_json::json!([]));
    let commands = manifest["contributes"]["commands"].as_array().unwrap();
    assert!(
        commands
            .iter()
            .any(|c| c["command"] == "connlint.restartServer"),
        "{commands:?}"
    );
    // Exact versions, so `npm install` and the lockfile cannot drift apart silently.
    for section in ["dependencies", "devDependencies"] {
        for (name, version) in manifest[section].as_object().unwrap() {
            let version = version.as_str().unwrap();
            assert!(
                version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{section}.{name} = {version:?} is not an exact version"
            );
        }
    }
    assert!(manifest["dependencies"]["vscode-languageclient"].is_string());
}

#[test]
fn the_manifest_declares_the_settings_the_command_and_both_languages() {
    assert_manifest(&manifest(&extension_dir()));
    assert!(extension_dir().join("package-lock.json").is_file());
}

/// False (after printing why) unless `CONNLINT_NETWORK_TESTS=1`; then npm must be there.
fn run_npm_build() -> bool {
    if std::env::var_os("CONNLINT_NETWORK_TESTS").is_none_or(|v| v != "1") {
        eprintln!(
            "skipping the VS Code extension build: set CONNLINT_NETWORK_TESTS=1 to run it \
             (it installs packages from the npm registry)"
        );
        return false;
    }
    let npm = Command::new("npm").arg("--version").output();
    assert!(
        npm.as_ref().is_ok_and(|o| o.status.success()),
        "CONNLINT_NETWORK_TESTS=1 but `npm --version` failed ({npm:?}): the VS Code extension \
         test needs Node.js 20 or later with npm on PATH"
    );
    true
}

/// Copies the extension's sources, without what npm and tsc make, into `to`.
fn copy_sources(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Ex) a developer's `npm install`, `npm run compile` or `npm run package` output.
        if name == "node_modules" || name == "out" || name.ends_with(".vsix") {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_sources(&entry.path(), &to.join(&*name));
        } else {
            fs::copy(entry.path(), to.join(&*name)).unwrap();
        }
    }
}

fn npm(dir: &Path, args: &[&str]) {
    let started = Instant::now();
    must(
        Command::new("npm")
            .args(args)
            .current_dir(dir)
            .env("NO_UPDATE_NOTIFIER", "1"),
    );
    eprintln!("npm {}: {:.1?}", args.join(" "), started.elapsed());
}

#[test]
fn the_extension_builds_from_its_lockfile_and_starts_connlint_server() {
    if !run_npm_build() {
        return;
    }
    let temp = tempfile::Builder::new()
        .prefix("connlint-vscode-")
        .tempdir()
        .unwrap();
    let dir = temp.path().join("vscode");
    copy_sources(&extension_dir(), &dir);
    assert!(!dir.join("node_modules").exists());
    assert!(!dir.join("out").exists());

    // `npm ci` fails when package-lock.json does not match package.json.
    npm(&dir, &["ci", "--no-audit", "--no-fund"]);
    npm(&dir, &["run", "compile"]);

    assert_manifest(&manifest(&dir));
    let main = dir.join("out/extension.js");
    assert!(main.is_file(), "npm run compile wrote no out/extension.js");
    let js = fs::read_to_string(&main).unwrap();
    assert!(
        js.contains("require(\"vscode-languageclient/node\")"),
        "{js}"
    );
    assert!(
        js.contains("'server'"),
        "the server is not started with `server`:\n{js}"
    );
    for name in [
        "connlint.restartServer",
        "'path'",
        "'args'",
        "'python'",
        "'rust'",
    ] {
        assert!(
            js.contains(name),
            "{name} is not in out/extension.js:\n{js}"
        );
    }

    // The build type-checks: a type error fails `npm run compile`.
    fs::write(
        dir.join("src/broken.ts"),
        "export const port: number = 'not a number';\n",
    )
    .unwrap();
    let broken = Command::new("npm")
        .args(["run", "compile"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!broken.status.success(), "{broken:?}");
    assert!(
        String::from_utf8_lossy(&broken.stdout).contains("src/broken.ts"),
        "{broken:?}"
    );
}
