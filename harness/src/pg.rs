//! The throwaway PostgreSQL cluster: `initdb` into a temporary folder, a Unix socket in that
//! folder only (`listen_addresses = ''`), trust authentication, `max_connections = 20`; stopped
//! with `pg_ctl stop -m immediate` and removed at the end.
//!
//! PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged system
//! user (`connlint-harness`, created with `useradd --system` when missing) and `initdb`/`pg_ctl`
//! run through `runuser`. Without root they run as the current user.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

pub const SYSTEM_USER: &str = "connlint-harness";
/// The database superuser the cases connect as (`initdb -U`), whatever the OS user is.
pub const DB_USER: &str = "connlint-harness";
pub const PORT: u16 = 5432;

pub struct Cluster {
    pub dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    stopped: bool,
}

impl Cluster {
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(program);
                c
            }
            None => Command::new(program),
        };
        // Its own process group: a Ctrl-C in the terminal reaches the harness, which stops the
        // server in order, instead of reaching the server directly.
        cmd.process_group(0);
        cmd
    }

    /// Stops the server (immediate mode) and removes the folder. Idempotent.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let pidfile = self.data().join("postmaster.pid");
        if pidfile.exists() {
            let status = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "-t", "30", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if !matches!(status, Ok(s) if s.success()) || pidfile.exists() {
                // Last resort: the postmaster's pid is the first line of postmaster.pid.
                if let Ok(text) = std::fs::read_to_string(&pidfile) {
                    if let Some(pid) = text.lines().next().map(str::trim).filter(|p| !p.is_empty())
                    {
                        let _ = Command::new("kill").args(["-KILL", pid]).status();
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn has_bins(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// `initdb` and `pg_ctl`: on PATH, else in Debian's /usr/lib/postgresql/<version>/bin (newest).
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_bins(&dir) {
                // Through symlinks (e.g. /usr/local/bin/initdb) to the real bin folder.
                let real = dir.join("initdb").canonicalize().ok()?;
                return real.parent().map(Path::to_path_buf);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e
                .file_name()
                .to_string_lossy()
                .split('.')
                .next()?
                .parse::<u32>()
                .ok()?;
            let bin = e.path().join("bin");
            has_bins(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Finds the server binaries, installing the OS package (`postgresql`) when they are missing.
pub fn ensure_binaries(log: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = find_bin_dir() {
        return Ok(dir);
    }
    if !is_root() || Command::new("apt-get").arg("--version").output().is_err() {
        return Err(
            "PostgreSQL's initdb/pg_ctl were not found (PATH, /usr/lib/postgresql/*/bin) \
                    and cannot be installed here (needs root and apt-get): install the \
                    `postgresql` package"
                .into(),
        );
    }
    eprintln!(
        "harness: initdb not found; installing PostgreSQL (apt-get install postgresql, log: {})",
        log.display()
    );
    let logfile = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = logfile.try_clone().map_err(|e| e.to_string())?;
    let status = Command::new("sh")
        .arg("-c")
        .arg("apt-get update && apt-get install -y --no-install-recommends postgresql")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(logfile)
        .stderr(err)
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if !status.success() {
        return Err(format!(
            "installing postgresql failed ({status}); see {}",
            log.display()
        ));
    }
    find_bin_dir()
        .ok_or_else(|| "postgresql installed, but initdb/pg_ctl are still not found".into())
}

fn ensure_system_user() -> Result<(), String> {
    let exists = Command::new("id")
        .arg("-u")
        .arg(SYSTEM_USER)
        .output()
        .map(|o| o.status.success());
    if matches!(exists, Ok(true)) {
        return Ok(());
    }
    run(
        Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ]),
        "useradd",
    )
}

/// initdb + pg_ctl start. The cluster is handed to `register` before anything is created, so
/// that a failure or a Ctrl-C half-way still removes what exists.
pub fn start(bin: PathBuf, register: impl FnOnce(Cluster)) -> Result<(), String> {
    let run_as = if is_root() {
        ensure_system_user()?;
        Some(SYSTEM_USER.to_string())
    } else {
        None
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Short path: the socket path (dir + "/.s.PGSQL.5432") must stay under 107 bytes.
    let dir =
        PathBuf::from("/tmp").join(format!("connlint-harness-{}-{nanos:x}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let cluster = Cluster {
        dir: dir.clone(),
        bin,
        run_as: run_as.clone(),
        stopped: false,
    };
    let data = cluster.data();
    let mut initdb = cluster.command("initdb");
    initdb.arg("-D").arg(&data).args([
        "-U",
        DB_USER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-locale",
        "-N",
    ]);
    let mut pg_ctl = cluster.command("pg_ctl");
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("postgres.log"))
        .args(["-w", "-t", "60", "start"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    register(cluster);
    if let Some(user) = &run_as {
        run(Command::new("chown").arg(user).arg(&dir), "chown")?;
    }
    run(&mut initdb, "initdb")?;
    let conf = format!(
        "\n# connlint harness\nlisten_addresses = ''\nunix_socket_directories = '{}'\nport = {PORT}\n\
         max_connections = 20\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
         # a hung statement cannot outlive the harness's deadlines\nstatement_timeout = '15s'\n\
         lock_timeout = '5s'\n",
        dir.display()
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, conf.as_bytes()))
        .map_err(|e| format!("postgresql.conf: {e}"))?;
    let status = pg_ctl.status().map_err(|e| format!("pg_ctl start: {e}"))?;
    if !status.success() {
        let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
        return Err(format!("pg_ctl start failed ({status}):\n{log}"));
    }
    Ok(())
}
