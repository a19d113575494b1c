//! Helpers shared by the integration tests of the binary (CLI, SARIF, baselines,
//! `cargo connlint`, pre-commit, the wheel). Each test file uses a part of them.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// CL001 at line 2: the early return keeps the connection.
pub const LEAK: &str = "\
def load(pool, key):
    conn = pool.getconn()
    if key is None:
        return None
    pool.putconn(conn)
";

/// CL002 at line 2: released on the normal path only.
pub const LEAK_ON_EXCEPTION: &str = "\
def lookup(pool, key=1):
    conn = pool.getconn()
    row = conn.execute(\"SELECT 1\").fetchone()
    pool.putconn(conn)
    return row[0]
";

/// CL008 at line 4: `with` ends the transaction, not the connection.
pub const WITH_CONNECT: &str = "\
import sqlite3

def add_note(path):
    with sqlite3.connect(path) as conn:
        conn.execute(\"CREATE TABLE t (x)\")
";

/// LEAK, fixed.
pub const CLEAN: &str = "\
def load(pool, key):
    conn = pool.getconn()
    try:
        return key
    finally:
        pool.putconn(conn)
";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// `(code, path, line)` of every finding of a JSON run.
    pub fn findings(&self) -> Vec<(String, String, u64)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    /// `(path, message)` of every problem of a JSON run.
    pub fn problems(&self) -> Vec<(String, String)> {
        self.json()["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["path"].as_str().unwrap().to_string(),
                    p["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    pub fn assert_no_crash(&self) {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("overflow"),
            "crashed:\n{}",
            self.stderr
        );
    }
}

/// Runs `program` in `dir`, feeding `stdin` when given; fails the test if it crashed.
pub fn run_with_stdin(program: &Path, dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let run = Run {
        // No exit code: killed by a signal, e.g. a stack overflow.
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    run.assert_no_crash();
    run
}

pub fn run(program: &Path, dir: &Path, args: &[&str]) -> Run {
    run_with_stdin(program, dir, args, None)
}

pub fn connlint_with_stdin(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    run_with_stdin(Path::new(env!("CARGO_BIN_EXE_connlint")), dir, args, stdin)
}

pub fn connlint(dir: &Path, args: &[&str]) -> Run {
    run(Path::new(env!("CARGO_BIN_EXE_connlint")), dir, args)
}

pub fn tempdir() -> tempfile::TempDir {
    // Not the default `.tmp` prefix: a hidden root would hide every file from the walk.
    tempfile::Builder::new()
        .prefix("connlint-test-")
        .tempdir()
        .unwrap()
}

pub fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, contents).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Tests that need the network (PyPI) and Python: pre-commit and the wheel.

/// The repository root (the `connlint` package's folder).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's target folder.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                repo_root().join(p)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"))
}

/// True (after printing why) unless `CONNLINT_NETWORK_TESTS=1` asks for the tests that install
/// from PyPI. Plain `cargo test` needs no network and no Python (DESIGN invariant 5);
/// `scripts/test`, which CI runs, sets the variable, so these tests run there.
pub fn skip_network_tests(test: &str) -> bool {
    if std::env::var_os("CONNLINT_NETWORK_TESTS").is_some_and(|v| v == "1") {
        return false;
    }
    eprintln!(
        "skipping {test}: set CONNLINT_NETWORK_TESTS=1 to run it (it installs packages from PyPI)"
    );
    true
}

/// Runs a command to completion, failing the test with its output when it fails.
pub fn must(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The Python to make virtual environments with: `$PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// `target/test-venv`, made on first use and kept between runs, with `packages` installed from
/// PyPI. Serialised across test processes by a lock folder.
pub fn test_venv(packages: &[&str]) -> PathBuf {
    let venv = target_dir().join("test-venv");
    let _lock = DirLock::acquire(&target_dir().join("test-venv.lock"));
    if !venv.join("bin/python").exists() {
        let _ = fs::remove_dir_all(&venv);
        must(Command::new(python()).args(["-m", "venv"]).arg(&venv));
    }
    must(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(packages),
    );
    venv
}

/// A lock held by the existence of a folder; one older than 30 minutes is taken as left over
/// from a killed run.
pub struct DirLock(PathBuf);

impl DirLock {
    pub fn acquire(path: &Path) -> DirLock {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        let started = Instant::now();
        loop {
            match fs::create_dir(path) {
                Ok(()) => return DirLock(path.to_path_buf()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > Duration::from_secs(30 * 60));
                    if stale {
                        let _ = fs::remove_dir(path);
                        continue;
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(30 * 60),
                        "waited 30 minutes for {}",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("cannot create {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}
