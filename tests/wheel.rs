//! The Python package, end to end: maturin (from PyPI, in `target/test-venv`) builds the wheel
//! that `pyproject.toml` describes into `target/wheels`, a fresh venv installs it, and the
//! `connlint` it puts on PATH checks a leaky file.
//!
//! The wheel is built in release mode, as `pip install` would, with
//! `CARGO_TARGET_DIR=target/wheel-build` so the compiled dependencies are kept between runs.
//! Needs the network (PyPI) and Python; it runs when `CONNLINT_NETWORK_TESTS=1` (as `scripts/test` sets).
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use common::{must, python, repo_root, skip_network_tests, target_dir, test_venv, write, LEAK};

fn build_wheel() -> PathBuf {
    let venv = test_venv(&["maturin>=1.5,<2"]);
    let wheels = target_dir().join("wheels");
    if let Ok(entries) = fs::read_dir(&wheels) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("connlint-") {
                fs::remove_file(entry.path()).unwrap();
            }
        }
    }
    let started = Instant::now();
    must(
        Command::new(venv.join("bin/maturin"))
            .args(["build", "--release", "--quiet", "--out"])
            .arg(&wheels)
            .arg("--manifest-path")
            .arg(repo_root().join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir().join("wheel-build")),
    );
    eprintln!("maturin build --release: {:.0?}", started.elapsed());
    let built: Vec<PathBuf> = fs::read_dir(&wheels)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("connlint-"))
                && p.extension().is_some_and(|e| e == "whl")
        })
        .collect();
    assert_eq!(built.len(), 1, "{built:?}");
    let name = built[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("connlint-{}-", env!("CARGO_PKG_VERSION"))),
        "{name}: the wheel's version is not Cargo's"
    );
    built.into_iter().next().unwrap()
}

#[test]
fn the_wheel_puts_connlint_on_path_in_a_fresh_venv() {
    if skip_network_tests("the wheel test") {
        return;
    }
    let wheel = build_wheel();

    let venv = target_dir().join("wheel-venv");
    let _ = fs::remove_dir_all(&venv);
    must(Command::new(python()).args(["-m", "venv"]).arg(&venv));
    must(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-index",
                "--disable-pip-version-check",
            ])
            .arg(&wheel),
    );
    assert!(venv.join("bin/connlint").is_file());
    assert!(venv.join("bin/cargo-connlint").is_file());

    // Found by name on the PATH, as after `source venv/bin/activate`.
    let path = std::env::join_paths(std::iter::once(venv.join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let version = must(Command::new("connlint").arg("--version").env("PATH", &path));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("connlint {}\n", env!("CARGO_PKG_VERSION"))
    );
    let found = String::from_utf8_lossy(
        &must(
            Command::new("sh")
                .args(["-c", "command -v connlint"])
                .env("PATH", &path),
        )
        .stdout,
    )
    .trim()
    .to_string();
    assert_eq!(PathBuf::from(found), venv.join("bin/connlint"));

    let project = tempfile::Builder::new()
        .prefix("connlint-wheel-")
        .tempdir()
        .unwrap();
    write(project.path(), "leaky.py", LEAK);
    let output = Command::new("connlint")
        .args(["check", "--format", "json", "leaky.py"])
        .current_dir(project.path())
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["findings"][0]["code"], "CL001");
    assert_eq!(doc["findings"][0]["path"], "leaky.py");
}

#[test]
fn our_pyproject_declares_a_maturin_bin_package_versioned_by_cargo() {
    // Runs without the network: the static half of the packaging contract.
    let text = fs::read_to_string(repo_root().join("pyproject.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(
        doc["build-system"]["build-backend"].as_str(),
        Some("maturin")
    );
    assert_eq!(
        doc["build-system"]["requires"].as_array().unwrap()[0].as_str(),
        Some("maturin>=1.5,<2")
    );
    assert_eq!(doc["project"]["name"].as_str(), Some("connlint"));
    assert_eq!(
        doc["project"]["dynamic"].as_array().unwrap()[0].as_str(),
        Some("version")
    );
    assert_eq!(doc["tool"]["maturin"]["bindings"].as_str(), Some("bin"));
    assert!(
        doc["tool"].get("connlint").is_none(),
        "a [tool.connlint] table here would configure every check run in this repository"
    );
}
