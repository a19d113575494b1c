//! connlint runtime confirmation harness (`cargo confirm` from the repository root).
//!
//! 1. builds `connlint` (`cargo build --release --bin connlint`, a no-op when fresh) and runs
//!    `connlint check --format json corpus`;
//! 2. reads every corpus file's `# confirm: <runtime>` line and annotations;
//! 3. starts a throwaway PostgreSQL (installing the OS package if `initdb` is missing) and a
//!    Python venv with pinned pool libraries (reused while its requirements are unchanged);
//! 4. runs harness/python/driver.py once per confirmable file (two at a time): every function is
//!    called with a small real pool, normally and with a server-side fault injected in turn at
//!    each of its statements, under deadlines, and gets a runtime verdict;
//! 5. compares the verdicts with the static findings, prints a table, writes
//!    target/harness/report.json, and ends with the three summary lines. Exit status 1 on any
//!    disagreement that is not accepted or any error, 2 when the harness itself cannot run.

mod cleanup;
mod compare;
mod corpus;
mod driver;
mod pg;
mod python;
mod rust_cases;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use compare::{Counts, Row};
use corpus::{Lang, Support};

struct Args {
    no_build: bool,
    corpus: String,
    jobs: usize,
    filters: Vec<String>,
    deadline: f64,
    max_fault_points: u32,
    verbose: bool,
}

const USAGE: &str = "usage: cargo confirm [OPTIONS]

Runs the corpus cases that carry a `# confirm: <runtime>` line against real pools and a throwaway
PostgreSQL, and compares what happened with `connlint check --format json`.

options:
  --jobs N          corpus files run in parallel (default 2)
  --filter TEXT     only corpus files whose path contains TEXT (repeatable)
  --corpus DIR      another case folder, relative to the repository root (default corpus;
                    harness/selftest holds cases that hang and crash, to test the harness)
  --deadline SECS   deadline of one call of a case function (default 10)
  --fault-points N  at most N fault runs per function, one per statement (default 6)
  --verbose         print every run's notes under the table
  --no-build        use target/release/connlint as it is (default: cargo build it first)
  -h, --help        this text";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        no_build: false,
        corpus: "corpus".into(),
        jobs: 2,
        filters: vec![],
        deadline: 10.0,
        max_fault_points: 6,
        verbose: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--jobs" => {
                args.jobs = value("--jobs")?
                    .parse()
                    .map_err(|_| "--jobs: not a number")?
            }
            "--filter" => args.filters.push(value("--filter")?),
            "--corpus" => args.corpus = value("--corpus")?.trim_end_matches('/').to_string(),
            "--deadline" => {
                args.deadline = value("--deadline")?
                    .parse()
                    .map_err(|_| "--deadline: not a number")?
            }
            "--fault-points" => {
                args.max_fault_points = value("--fault-points")?
                    .parse()
                    .map_err(|_| "--fault-points: not a number")?
            }
            "--verbose" => args.verbose = true,
            "--no-build" => args.no_build = true,
            "--" => {}
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    args.jobs = args.jobs.max(1);
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("harness: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = cleanup::install() {
        eprintln!("harness: {e}");
        std::process::exit(2);
    }
    let code = {
        let _guard = cleanup::Guard;
        match run(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("harness: error: {e}");
                cleanup::shutdown();
                print_summary(
                    &Counts {
                        errors: 1,
                        ..Counts::default()
                    },
                    &Counts::default(),
                );
                2
            }
        }
    };
    std::process::exit(code);
}

struct Paths {
    root: PathBuf,
    out: PathBuf,
}

fn paths() -> Result<Paths, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .ok_or("harness/ has no parent")?
        .canonicalize()
        .map_err(|e| format!("repository root: {e}"))?;
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if !t.is_empty() => root.join(t),
        _ => root.join("target"),
    };
    Ok(Paths {
        out: target.join("harness"),
        root,
    })
}

fn connlint_binary(root: &Path, build: bool) -> Result<PathBuf, String> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if !t.is_empty() => root.join(t),
        _ => root.join("target"),
    };
    let binary = target.join("release").join("connlint");
    if !build {
        return if binary.is_file() {
            Ok(binary)
        } else {
            Err(format!("--no-build: {} does not exist", binary.display()))
        };
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--bin", "connlint"])
        .current_dir(root)
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_MANIFEST_PATH")
        .status()
        .map_err(|e| format!("{cargo} build: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build --release --bin connlint failed ({status})"
        ));
    }
    Ok(binary)
}

fn run(args: &Args) -> Result<i32, String> {
    let t0 = Instant::now();
    let Paths { root, out } = paths()?;
    let logs = out.join("logs");
    let work = out.join("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let connlint = connlint_binary(&root, !args.no_build)?;
    let (findings, problems) = corpus::static_findings(&root, &connlint, &args.corpus)?;
    let files = corpus::scan(&root, &args.corpus)?;
    let limits_path = root.join("harness").join("known-runtime-limits.toml");
    let limits = corpus::known_limits(&limits_path)?;
    let t_static = t0.elapsed();

    // Decide what runs.
    let selected = |rel: &str| {
        args.filters.is_empty() || args.filters.iter().any(|f| rel.contains(f.as_str()))
    };
    let mut jobs = Vec::new();
    let mut rows: BTreeMap<String, Vec<Row>> = BTreeMap::new(); // per file, in order
    let mut file_counts: BTreeMap<String, (Lang, Counts)> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        if !selected(&f.rel) {
            continue;
        }
        let mut counts = Counts::default();
        match f.runtime.as_deref() {
            None => {
                let row = Row::error(&f.rel, "*", "no `confirm: <runtime>` line".into());
                counts.add(&row.counts);
                rows.entry(f.rel.clone()).or_default().push(row);
            }
            Some("none") => {
                let mut row = Row::new(&f.rel, "*");
                row.runtime = "not run".into();
                row.outcome = "skipped: confirm: none".into();
                row.static_codes = findings
                    .get(&f.rel)
                    .into_iter()
                    .flatten()
                    .map(|x| format!("{}:{}", x.code, x.line))
                    .collect();
                counts.skipped_files = 1;
                rows.entry(f.rel.clone()).or_default().push(row);
            }
            Some(name) => match corpus::runtime(name) {
                Some(spec) if spec.lang != f.lang => {
                    let row = Row::error(
                        &f.rel,
                        "*",
                        format!("runtime `{name}` is a {} runtime", spec.lang.name()),
                    );
                    counts.add(&row.counts);
                    rows.entry(f.rel.clone()).or_default().push(row);
                }
                Some(spec) if spec.support == Support::NotYet => {
                    let row = Row::error(
                        &f.rel,
                        "*",
                        format!("runtime `{name}` is not supported by the harness yet"),
                    );
                    counts.add(&row.counts);
                    rows.entry(f.rel.clone()).or_default().push(row);
                }
                Some(spec) => jobs.push((i, spec)),
                None => {
                    let row = Row::error(&f.rel, "*", format!("unknown runtime `{name}`"));
                    counts.add(&row.counts);
                    rows.entry(f.rel.clone()).or_default().push(row);
                }
            },
        }
        file_counts.insert(f.rel.clone(), (f.lang, counts));
    }

    // Set up what the jobs need.
    let t1 = Instant::now();
    let needs_pg = jobs.iter().any(|(_, spec)| spec.needs_pg);
    let pg_info = if needs_pg {
        let bin = pg::ensure_binaries(&logs.join("apt.log"))?;
        pg::start(bin, cleanup::register_cluster)?;
        let host =
            cleanup::with_cluster(|c| c.socket_dir().display().to_string()).ok_or("no cluster")?;
        eprintln!("harness: PostgreSQL started (socket {host})");
        Some(driver::PgInfo {
            host,
            port: pg::PORT,
            user: pg::DB_USER.into(),
            dbname: "postgres".into(),
        })
    } else {
        None
    };
    let t_pg = t1.elapsed();
    let t2 = Instant::now();
    let python = if jobs.iter().any(|(i, _)| files[*i].lang == Lang::Python) {
        Some(python::ensure_venv(
            &out.join("venv"),
            &root.join("harness").join("python").join("requirements.txt"),
            &logs.join("venv.log"),
        )?)
    } else {
        None
    };
    let t_venv = t2.elapsed();

    // The Rust cases: every confirmable Rust file is compiled into one crate (whatever the
    // filter, so that the build stays cached), built against the real pool crates.
    let t_rust = Instant::now();
    let mut rust_program = None;
    let mut rust_errors: BTreeMap<String, String> = BTreeMap::new();
    if jobs.iter().any(|(i, _)| files[*i].lang == Lang::Rust) {
        let mut included = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let Some(rt) = f.runtime.as_deref().and_then(rust_cases::rust_runtime) else {
                continue;
            };
            if f.lang != Lang::Rust {
                continue;
            }
            let text =
                std::fs::read_to_string(&f.abs).map_err(|e| format!("{}: {e}", f.abs.display()))?;
            match rust_cases::functions(&text) {
                Ok(functions) => included.push(rust_cases::Included {
                    file_id: format!("p{:02}", i + 1),
                    abs: f.abs.clone(),
                    runtime: rt,
                    functions,
                }),
                Err(e) => {
                    rust_errors.insert(f.rel.clone(), e);
                }
            }
        }
        let generated = rust_cases::generate(&included)?;
        eprintln!("harness: building the Rust cases (log: logs/rust-build.log)");
        match rust_cases::build(&root, &out, &generated, &logs.join("rust-build.log")) {
            Ok(binary) => rust_program = Some(binary),
            Err((message, culprits)) => {
                for f in &files {
                    if f.lang != Lang::Rust {
                        continue;
                    }
                    let own = culprits.iter().any(|c| c == &f.abs);
                    let why = if own || culprits.is_empty() {
                        message.clone()
                    } else {
                        "not run: the Rust case crate did not build (errors in other files)".into()
                    };
                    rust_errors.entry(f.rel.clone()).or_insert(why);
                }
            }
        }
    }
    let t_rust = t_rust.elapsed();
    // Rust files that cannot run get their error row instead of a job.
    jobs.retain(|(i, _)| {
        let f = &files[*i];
        match rust_errors.get(&f.rel) {
            Some(e) if f.lang == Lang::Rust => {
                let row = Row::error(&f.rel, "*", e.clone());
                if let Some((_, counts)) = file_counts.get_mut(&f.rel) {
                    counts.add(&row.counts);
                }
                rows.entry(f.rel.clone()).or_default().push(row);
                false
            }
            _ => true,
        }
    });

    // Run the drivers, `jobs` files at a time.
    let t3 = Instant::now();
    let settings = Arc::new(driver::Settings {
        python: python.unwrap_or_default(),
        driver: root.join("harness").join("python").join("driver.py"),
        corpus: root.join(&args.corpus),
        work: work.clone(),
        logs: logs.clone(),
        deadline: args.deadline,
        max_fault_points: args.max_fault_points,
        watchdog: Duration::from_secs_f64(args.deadline * 3.0 + 15.0),
    });
    let queue: Arc<Mutex<Vec<driver::Job>>> = Arc::new(Mutex::new(
        jobs.iter()
            .rev()
            .map(|(i, spec)| {
                let f = &files[*i];
                driver::Job {
                    file_id: format!("p{:02}", i + 1),
                    rel: f.rel.clone(),
                    abs: f.abs.clone(),
                    runtime: spec.name.to_string(),
                    pg: if spec.needs_pg { pg_info.clone() } else { None },
                    program: match f.lang {
                        Lang::Rust => rust_program.clone(),
                        Lang::Python => None,
                    },
                }
            })
            .collect(),
    ));
    let results: Arc<Mutex<BTreeMap<String, driver::FileRun>>> =
        Arc::new(Mutex::new(BTreeMap::new()));
    let total = jobs.len();
    let mut workers = Vec::new();
    for _ in 0..args.jobs.min(total.max(1)) {
        let queue = Arc::clone(&queue);
        let results = Arc::clone(&results);
        let settings = Arc::clone(&settings);
        workers.push(std::thread::spawn(move || loop {
            let job = match queue.lock().unwrap_or_else(|p| p.into_inner()).pop() {
                Some(j) => j,
                None => return,
            };
            let run = driver::run_file(&job, &settings);
            let done = {
                let mut r = results.lock().unwrap_or_else(|p| p.into_inner());
                r.insert(job.rel.clone(), run);
                r.len()
            };
            eprintln!("harness: [{done}/{total}] {} ({})", job.rel, job.runtime);
        }));
    }
    for w in workers {
        let _ = w.join();
    }
    let t_drivers = t3.elapsed();
    cleanup::shutdown(); // PostgreSQL is not needed for the comparison

    // Compare.
    let mut results = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
    let mut used_limits = BTreeSet::new();
    let mut file_reports: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    for (i, spec) in &jobs {
        let f = &files[*i];
        let run = results.remove(&f.rel).unwrap_or_default();
        let file_findings: Vec<&corpus::Finding> =
            findings.get(&f.rel).into_iter().flatten().collect();
        let mut file_rows = Vec::new();
        if let Some(e) = &run.file_error {
            let mut row = Row::error(&f.rel, "*", e.clone());
            row.static_codes = file_findings
                .iter()
                .map(|x| format!("{}:{}", x.code, x.line))
                .collect();
            file_rows.push(row);
        }
        for info in &run.functions {
            let fs: Vec<&corpus::Finding> = file_findings
                .iter()
                .copied()
                .filter(|x| x.function.as_deref() == Some(info.name.as_str()))
                .collect();
            file_rows.push(compare::compare_function(
                &f.rel,
                info,
                run.results.get(&info.name),
                &fs,
                &f.annotations,
                &limits,
                &mut used_limits,
            ));
        }
        if run.file_error.is_none() {
            file_rows.extend(compare::unmatched_findings(
                &f.rel,
                &file_findings,
                &run.functions,
            ));
        }
        let entry = file_counts
            .entry(f.rel.clone())
            .or_insert((f.lang, Counts::default()));
        for row in &file_rows {
            entry.1.add(&row.counts);
        }
        file_reports
            .entry(f.lang.name())
            .or_default()
            .push(serde_json::json!({
                "file": f.rel, "runtime": spec.name, "seconds": (run.seconds * 10.0).round() / 10.0,
                "error": run.file_error, "functions": file_rows,
            }));
        rows.insert(f.rel.clone(), file_rows);
    }
    // Every known limit must still be needed: a stale entry hides nothing and is removed.
    let mut extra = Vec::new();
    for (i, l) in limits.iter().enumerate() {
        let applies = selected(&l.file) && l.file.starts_with(&format!("{}/", args.corpus));
        if applies && !used_limits.contains(&i) {
            let row = Row::error(
                "harness/known-runtime-limits.toml",
                &format!("{}::{}", l.file, l.function),
                format!(
                    "stale entry ({}): no such disagreement any more; remove it",
                    l.code
                ),
            );
            extra.push(row);
        }
    }

    // Print.
    let mut all_rows: Vec<&Row> = rows.values().flatten().collect();
    all_rows.extend(extra.iter());
    print_table(&all_rows, args.verbose);
    for p in &problems {
        println!("connlint problem: {p}");
    }
    let mut per_lang: BTreeMap<&str, Counts> = BTreeMap::new();
    for (lang, counts) in file_counts.values() {
        per_lang.entry(lang.name()).or_default().add(counts);
    }
    for row in &extra {
        let lang = if row.function.contains(".rs::") {
            "rust"
        } else {
            "python"
        };
        per_lang.entry(lang).or_default().add(&row.counts);
    }
    let py = per_lang.remove("python").unwrap_or_default();
    let rs = per_lang.remove("rust").unwrap_or_default();
    let mut total_counts = py.clone();
    total_counts.add(&rs);

    let report = serde_json::json!({
        "version": 1,
        "connlint": connlint.display().to_string(),
        "timing_seconds": {
            "static": secs(t_static), "postgres": secs(t_pg), "venv": secs(t_venv),
            "rust_build": secs(t_rust), "drivers": secs(t_drivers), "total": secs(t0.elapsed()),
        },
        "known_runtime_limits": limits.iter().map(|l| serde_json::json!({
            "file": l.file, "function": l.function, "code": l.code, "reason": l.reason})).collect::<Vec<_>>(),
        "python": { "counts": py, "files": file_reports.remove("python").unwrap_or_default() },
        "rust": { "counts": rs, "files": file_reports.remove("rust").unwrap_or_default() },
        "total": total_counts,
        "rows_failing": all_rows.iter().filter(|r| r.failing).map(|r| format!("{}::{}", r.file, r.function)).collect::<Vec<_>>(),
    });
    let report_path = out.join("report.json");
    std::fs::write(
        &report_path,
        serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", report_path.display()))?;

    println!();
    println!(
        "harness: {} agreed clean; {} disagreement(s) accepted (corpus annotation or known runtime limit), {} not accepted; \
         {} function(s) and {} file(s) skipped",
        total_counts.agreed_clean, total_counts.accepted, total_counts.unaccepted,
        total_counts.skipped_functions, total_counts.skipped_files
    );
    println!(
        "harness: time {:.1} s (static {:.1} s, postgres {:.1} s, venv {:.1} s, rust build {:.1} s, drivers {:.1} s); report: {}",
        t0.elapsed().as_secs_f64(),
        t_static.as_secs_f64(),
        t_pg.as_secs_f64(),
        t_venv.as_secs_f64(),
        t_rust.as_secs_f64(),
        t_drivers.as_secs_f64(),
        report_path.display()
    );
    print_summary(&py, &rs);
    let failing = all_rows.iter().any(|r| r.failing)
        || total_counts.errors > 0
        || total_counts.unaccepted > 0;
    Ok(if failing { 1 } else { 0 })
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

fn print_summary(py: &Counts, rs: &Counts) {
    let mut t = py.clone();
    t.add(rs);
    for (label, c) in [
        ("harness python", py),
        ("harness rust", rs),
        ("harness", &t),
    ] {
        println!(
            "{label}: {} confirmed, {} refuted, {} missed, {} errors",
            c.confirmed, c.refuted, c.missed, c.errors
        );
    }
}

fn print_table(rows: &[&Row], verbose: bool) {
    let header = ["file", "function", "static", "runtime", "outcome"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let file = r
                .file
                .split_once('/')
                .map_or(r.file.as_str(), |(_, rest)| rest)
                .to_string();
            let codes = if r.static_codes.is_empty() {
                "-".to_string()
            } else {
                r.static_codes.join(",")
            };
            let mark = if r.failing { "FAIL " } else { "" };
            [
                file,
                r.function.clone(),
                codes,
                r.runtime.clone(),
                format!("{mark}{}", r.outcome),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for c in &cells {
        for (w, s) in widths.iter_mut().zip(c.iter()).take(4) {
            *w = (*w).max(s.chars().count()).min(48);
        }
    }
    let line = |c: &[String; 5]| {
        format!(
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
    };
    println!("{}", line(&header.map(String::from)));
    println!("{}", "-".repeat(widths.iter().sum::<usize>() + 8 + 40));
    for (c, r) in cells.iter().zip(rows) {
        println!("{}", line(c).trim_end());
        if verbose || r.failing {
            for n in &r.notes {
                println!("    - {n}");
            }
        }
    }
}
