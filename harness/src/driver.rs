//! Runs harness/python/driver.py for one corpus file and collects its events, with a watchdog:
//! a driver that makes no progress for too long is killed (its whole process group), the
//! function it was running gets an `error` verdict, and a new driver continues with the
//! functions that were not run yet.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cleanup;

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct FnInfo {
    pub name: String,
    pub line: u32,
    pub end_line: u32,
    pub kind: String,
    /// "run", "skip-private", "skip-cannot-call"
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct FnResult {
    pub name: String,
    /// "leak", "clean", "error"
    pub verdict: String,
    /// "normal" (a leak at a normal exit: CL001/CL008/CL009), "exception" (only when it raised:
    /// CL002), "finalizer" (CL003), "deadlock" (CL007), "starvation" (CL006)
    #[serde(default)]
    pub classes: Vec<String>,
    /// The classes this runtime measured for the function (the Python driver: the first three).
    #[serde(default = "python_classes")]
    pub measured: Vec<String>,
    #[serde(default)]
    pub runs: Vec<serde_json::Value>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub traceback: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "event")]
enum Event {
    #[serde(rename = "functions")]
    Functions { functions: Vec<FnInfo> },
    #[serde(rename = "begin")]
    Begin { name: String },
    #[serde(rename = "run")]
    Run {},
    #[serde(rename = "result")]
    Result(FnResult),
    #[serde(rename = "file-error")]
    FileError { message: String },
    #[serde(rename = "done")]
    Done,
}

pub struct Job {
    pub file_id: String,
    pub rel: String,
    pub abs: PathBuf,
    pub runtime: String,
    pub pg: Option<PgInfo>,
    /// The program that runs the case (the built Rust case binary); None: the Python driver.
    pub program: Option<PathBuf>,
}

#[derive(Clone, Serialize)]
pub struct PgInfo {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub dbname: String,
}

pub struct Settings {
    pub python: PathBuf,
    pub driver: PathBuf,
    pub corpus: PathBuf,
    pub work: PathBuf,
    pub logs: PathBuf,
    /// Per call, enforced inside the driver.
    pub deadline: f64,
    pub max_fault_points: u32,
    /// No event from the driver for this long: it is killed.
    pub watchdog: Duration,
}

#[derive(Default)]
pub struct FileRun {
    pub functions: Vec<FnInfo>,
    pub results: BTreeMap<String, FnResult>,
    pub file_error: Option<String>,
    pub seconds: f64,
}

#[derive(Serialize)]
struct JobFile<'a> {
    case: &'a Path,
    corpus_root: &'a Path,
    runtime: &'a str,
    file_id: &'a str,
    pg: Option<PgInfo>,
    workdir: PathBuf,
    deadline: f64,
    max_fault_points: u32,
    only: Option<Vec<String>>,
}

enum Msg {
    Line(String),
    Eof,
}

pub fn run_file(job: &Job, s: &Settings) -> FileRun {
    let started = std::time::Instant::now();
    let mut run = FileRun::default();
    let mut only: Option<Vec<String>> = None;
    let log_path = s.logs.join(format!("{}.log", job.file_id));
    let _ = std::fs::remove_file(&log_path);
    for attempt in 0..6 {
        match one_driver(job, s, &log_path, only.clone(), &mut run) {
            Ok(()) => break,
            Err(why) => {
                if run.functions.is_empty() {
                    run.file_error.get_or_insert(why);
                    break;
                }
                let remaining: Vec<String> = run
                    .functions
                    .iter()
                    .filter(|f| f.status == "run" && !run.results.contains_key(&f.name))
                    .map(|f| f.name.clone())
                    .collect();
                if remaining.is_empty() {
                    break;
                }
                if attempt == 5 {
                    for name in remaining {
                        run.results.insert(
                            name.clone(),
                            error_result(&name, &format!("not run: {why}")),
                        );
                    }
                    break;
                }
                only = Some(remaining);
            }
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    run
}

fn python_classes() -> Vec<String> {
    ["normal", "exception", "finalizer"]
        .map(String::from)
        .to_vec()
}

fn error_result(name: &str, message: &str) -> FnResult {
    FnResult {
        name: name.to_string(),
        verdict: "error".into(),
        classes: vec![],
        measured: python_classes(),
        runs: vec![],
        error: Some(message.to_string()),
        traceback: None,
    }
}

/// One driver process. Ok when it said `done`; Err(reason) when it hung or died (the function
/// it was running has been given an error result).
fn one_driver(
    job: &Job,
    s: &Settings,
    log_path: &Path,
    only: Option<Vec<String>>,
    run: &mut FileRun,
) -> Result<(), String> {
    let workdir = s.work.join(&job.file_id);
    std::fs::create_dir_all(&workdir).map_err(|e| format!("{}: {e}", workdir.display()))?;
    let job_path = workdir.join("job.json");
    let spec = JobFile {
        case: &job.abs,
        corpus_root: &s.corpus,
        runtime: &job.runtime,
        file_id: &job.file_id,
        pg: job.pg.clone(),
        workdir: workdir.clone(),
        deadline: s.deadline,
        max_fault_points: s.max_fault_points,
        only,
    };
    std::fs::write(
        &job_path,
        serde_json::to_vec_pretty(&spec).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", job_path.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut command = match &job.program {
        Some(program) => Command::new(program),
        None => {
            let mut c = Command::new(&s.python);
            c.arg(&s.driver);
            c
        }
    };
    let program = job.program.as_ref().unwrap_or(&s.python).clone();
    let mut child = command
        .arg(&job_path)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let pgid = child.id();
    cleanup::register_group(pgid);
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(l) => {
                    if tx.send(Msg::Line(l)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(Msg::Eof);
    });
    let mut current: Option<String> = None;
    let mut outcome: Result<(), String> = Err("the driver ended without `done`".into());
    loop {
        match rx.recv_timeout(s.watchdog) {
            Ok(Msg::Line(line)) => match serde_json::from_str::<Event>(&line) {
                Ok(Event::Functions { functions }) => {
                    if run.functions.is_empty() {
                        run.functions = functions;
                    }
                }
                Ok(Event::Begin { name }) => current = Some(name),
                Ok(Event::Run {}) => {}
                Ok(Event::Result(result)) => {
                    current = None;
                    run.results.insert(result.name.clone(), result);
                }
                Ok(Event::FileError { message }) => run.file_error = Some(message),
                Ok(Event::Done) => outcome = Ok(()),
                Err(e) => {
                    outcome = Err(format!("unreadable driver output ({e}): {line}"));
                    break;
                }
            },
            Ok(Msg::Eof) => break,
            Err(_) => {
                let what = current.clone().unwrap_or_else(|| "the file".into());
                outcome = Err(format!(
                    "no progress for {} s in {what}",
                    s.watchdog.as_secs()
                ));
                cleanup::kill_group(pgid);
                break;
            }
        }
    }
    if outcome.is_err() {
        cleanup::kill_group(pgid);
    }
    let status = child.wait();
    cleanup::unregister_group(pgid);
    let _ = reader.join();
    if let Err(why) = &outcome {
        let why = match &status {
            Ok(st) if !why.starts_with("no progress") => {
                format!("{why} ({st}; see {})", log_path.display())
            }
            _ => why.clone(),
        };
        if let Some(name) = current {
            run.results.insert(
                name.clone(),
                error_result(&name, &format!("driver killed: {why}")),
            );
        }
        return Err(why);
    }
    if run.file_error.is_some() {
        return Ok(());
    }
    if run.functions.is_empty() {
        return Err("the driver listed no functions".into());
    }
    Ok(())
}
