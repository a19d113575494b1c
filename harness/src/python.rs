//! The harness's Python: a venv under `target/harness/venv` with the packages pinned in
//! `harness/python/requirements.txt`, reused as long as that file (and the interpreter) are
//! unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MARKER: &str = "connlint-harness-requirements.txt";

/// `CONNLINT_HARNESS_PYTHON`, else the first of python3.11, python3.12, python3.13, python3
/// that is at least 3.11 (the driver needs `co_qualname`; the pins are chosen for 3.11).
fn find_python() -> Result<(String, String), String> {
    let candidates: Vec<String> = match std::env::var("CONNLINT_HARNESS_PYTHON") {
        Ok(p) if !p.is_empty() => vec![p],
        _ => ["python3.11", "python3.12", "python3.13", "python3"]
            .map(String::from)
            .to_vec(),
    };
    for candidate in &candidates {
        let out = Command::new(candidate)
            .args([
                "-c",
                "import sys; print(sys.version.split()[0]); print(sys.version_info >= (3, 11))",
            ])
            .stderr(Stdio::null())
            .output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut lines = text.lines();
            if let (Some(version), Some("True")) = (lines.next(), lines.next()) {
                return Ok((candidate.clone(), version.to_string()));
            }
        }
    }
    Err(format!(
        "no Python >= 3.11 found (tried {}); set CONNLINT_HARNESS_PYTHON",
        candidates.join(", ")
    ))
}

fn log_to(path: &Path) -> Result<(Stdio, Stdio), String> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let g = f.try_clone().map_err(|e| e.to_string())?;
    Ok((Stdio::from(f), Stdio::from(g)))
}

/// Returns the venv's python, creating or refreshing the venv when needed.
pub fn ensure_venv(venv: &Path, requirements: &Path, log: &Path) -> Result<PathBuf, String> {
    let python = venv.join("bin").join("python");
    let wanted = std::fs::read_to_string(requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let (interpreter, version) = find_python()?;
    let stamp = format!("# python {version}\n{wanted}");
    let current = std::fs::read_to_string(venv.join(MARKER)).ok();
    let works = Command::new(&python)
        .args([
            "-c",
            "import psycopg2, psycopg, psycopg_pool, asyncpg, sqlalchemy",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if current.as_deref() == Some(stamp.as_str()) && works {
        return Ok(python);
    }
    eprintln!(
        "harness: creating the Python venv ({interpreter} {version}, pinned packages) in {} (log: {})",
        venv.display(),
        log.display()
    );
    let _ = std::fs::remove_dir_all(venv);
    let (out, err) = log_to(log)?;
    let mut create = Command::new(&interpreter);
    create
        .arg("-m")
        .arg("venv")
        .arg(venv)
        .stdout(out)
        .stderr(err);
    let ok = create.status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        // Debian ships ensurepip separately (python3-venv).
        let _ = std::fs::remove_dir_all(venv);
        let (out, err) = log_to(log)?;
        let installed = Command::new("sh")
            .arg("-c")
            .arg("apt-get update && apt-get install -y --no-install-recommends python3-venv")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(out)
            .stderr(err)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        let (out, err) = log_to(log)?;
        let retried = installed
            && Command::new(&interpreter)
                .arg("-m")
                .arg("venv")
                .arg(venv)
                .stdout(out)
                .stderr(err)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
        if !retried {
            return Err(format!(
                "cannot create a venv with {interpreter}; see {}",
                log.display()
            ));
        }
    }
    let (out, err) = log_to(log)?;
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary=:all:",
            "-r",
        ])
        .arg(requirements)
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("pip: {e}"))?;
    if !status.success() {
        return Err(format!(
            "pip install -r {} failed; see {}",
            requirements.display(),
            log.display()
        ));
    }
    std::fs::write(venv.join(MARKER), stamp).map_err(|e| e.to_string())?;
    Ok(python)
}
