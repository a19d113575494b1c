//! Drives the Rust corpus cases against real pools, the way harness/python/driver.py drives the
//! Python ones, and speaks the same protocol: one JSON event a line on stdout (`functions`,
//! `begin`, `run`, `result`, `done`).
//!
//! Per function (see harness/README.md "Rust cases" for the verdicts):
//! 1. a normal run on a pool of 3, counting the statements it sends (PostgreSQL, via the proxy);
//! 2. one run per statement (at most `max_fault_points`) with that statement failing on the
//!    server;
//! 3. a run on a pool of one with a short acquire timeout (nested acquisition: deadlock);
//! 4. for async functions, one call and then 3 concurrent calls on a pool of one
//!    (held across an await: starvation).
//!
//! After each call the pool's own statistics are read while what the call returned is still
//! alive (connections handed to the caller), and again after it was dropped (connections the
//! pool never gets back); for PostgreSQL, the backends carrying the run's `application_name`
//! must equal the connections the pool says it has open.

pub mod pools;
pub mod proxy;

use std::any::Any;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use pools::{PgTarget, PoolSpec, Runtime, Stats};

/// What a call of a case function gave back.
pub struct Outcome {
    /// `Err(e)` as text, or the panic's message.
    pub error: Option<String>,
    pub panicked: bool,
    /// What the function returned, kept alive until the pool has been measured with it; never
    /// read: dropping it is what matters.
    #[allow(dead_code)]
    pub value: Option<Box<dyn Any + Send>>,
}

impl Outcome {
    pub fn from_result<T: Send + 'static, E: Display>(r: Result<T, E>) -> Outcome {
        match r {
            Ok(v) => Outcome {
                error: None,
                panicked: false,
                value: Some(Box::new(v)),
            },
            Err(e) => Outcome {
                error: Some(e.to_string()),
                panicked: false,
                value: None,
            },
        }
    }

    pub fn from_value<T: Send + 'static>(v: T) -> Outcome {
        Outcome {
            error: None,
            panicked: false,
            value: Some(Box::new(v)),
        }
    }

    fn panic(message: String) -> Outcome {
        Outcome {
            error: Some(message),
            panicked: true,
            value: None,
        }
    }
}

pub type BoxCall = Pin<Box<dyn Future<Output = Outcome>>>;

/// A synchronous case function runs on a blocking thread, as a caller in async code would run it.
pub fn blocking(f: impl FnOnce() -> Outcome + Send + 'static) -> BoxCall {
    Box::pin(async move {
        match tokio::task::spawn_blocking(f).await {
            Ok(o) => o,
            Err(e) if e.is_panic() => Outcome::panic(panic_text(e.into_panic())),
            Err(e) => Outcome::panic(e.to_string()),
        }
    })
}

pub struct Call<P> {
    pub name: &'static str,
    pub is_async: bool,
    pub call: fn(P) -> BoxCall,
}

pub enum Calls {
    SqlxPostgres(&'static [Call<sqlx::PgPool>]),
    SqlxSqlite(&'static [Call<sqlx::SqlitePool>]),
    R2d2Sqlite(&'static [Call<r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>>]),
    DeadpoolPostgres(&'static [Call<deadpool_postgres::Pool>]),
    Bb8Postgres(&'static [Call<pools::Bb8PgPool>]),
}

pub struct Case {
    /// The corpus file, as `#[path]` includes it.
    pub path: &'static str,
    /// The `functions` event's list (JSON), made by the harness from the file's syntax tree.
    pub functions: &'static str,
    pub calls: Calls,
}

#[derive(Deserialize)]
struct PgInfo {
    host: String,
    port: u16,
    user: String,
    dbname: String,
}

#[derive(Deserialize)]
struct Job {
    case: PathBuf,
    runtime: String,
    file_id: String,
    pg: Option<PgInfo>,
    workdir: PathBuf,
    deadline: f64,
    max_fault_points: u32,
    only: Option<Vec<String>>,
}

fn emit(v: Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

fn panic_text(p: Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".into()
    }
}

/// Polls a future inside `catch_unwind`, so a panicking case becomes an outcome.
struct CatchUnwind(BoxCall);

impl Future for CatchUnwind {
    type Output = Outcome;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let f = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(cx))) {
            Ok(p) => p,
            Err(p) => Poll::Ready(Outcome::panic(panic_text(p))),
        }
    }
}

/// The entry point of the generated binary: `connlint-harness-cases <job.json>`.
pub fn main(cases: &'static [Case]) -> std::process::ExitCode {
    let result = (|| -> Result<(), String> {
        let path = std::env::args()
            .nth(1)
            .ok_or("usage: connlint-harness-cases JOB.json")?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let job: Job = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        let case = find_case(cases, &job.case)?;
        let functions: Value = serde_json::from_str(case.functions)
            .map_err(|e| format!("the generated function list: {e}"))?;
        emit(json!({"event": "functions", "functions": functions}));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        rt.block_on(run_case(case, &job))
    })();
    match result {
        Ok(()) => {
            emit(json!({"event": "done"}));
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            emit(json!({"event": "file-error", "message": message}));
            emit(json!({"event": "done"}));
            std::process::ExitCode::SUCCESS
        }
    }
}

fn find_case(cases: &'static [Case], path: &Path) -> Result<&'static Case, String> {
    let want = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    cases
        .iter()
        .find(|c| {
            let p = Path::new(c.path);
            p == want || p.canonicalize().ok().as_deref() == Some(want.as_path())
        })
        .ok_or_else(|| {
            format!(
                "{} is not in the built case crate (is its `// confirm:` line new? rerun the harness)",
                path.display()
            )
        })
}

struct Ctx {
    file_id: String,
    workdir: PathBuf,
    deadline: Duration,
    max_fault_points: u32,
    only: Option<Vec<String>>,
    /// PostgreSQL runtimes: the proxy and a monitoring connection to the real server.
    pg: Option<PgSide>,
    /// Runs so far, for unique application names and SQLite files.
    serial: std::cell::Cell<u32>,
}

struct PgSide {
    proxy: proxy::Proxy,
    monitor: tokio_postgres::Client,
}

async fn run_case(case: &Case, job: &Job) -> Result<(), String> {
    let needs_pg = matches!(
        case.calls,
        Calls::SqlxPostgres(_) | Calls::DeadpoolPostgres(_) | Calls::Bb8Postgres(_)
    );
    let mut target = None;
    let mut pg = None;
    if needs_pg {
        let info = job
            .pg
            .as_ref()
            .ok_or_else(|| format!("runtime `{}` needs PostgreSQL", job.runtime))?;
        let proxy = proxy::Proxy::start(&job.workdir.join("pg"), Path::new(&info.host), info.port)?;
        let real = PgTarget {
            socket_dir: PathBuf::from(&info.host),
            port: info.port,
            user: info.user.clone(),
            dbname: info.dbname.clone(),
        };
        let (monitor, connection) = real
            .tokio_config("connlint-harness-monitor")
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("monitoring connection: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        monitor
            .batch_execute(FIXTURE_PG)
            .await
            .map_err(|e| format!("fixture tables: {e}"))?;
        target = Some(PgTarget {
            socket_dir: proxy.dir.clone(),
            ..real
        });
        pg = Some(PgSide { proxy, monitor });
    }
    let ctx = Ctx {
        file_id: job.file_id.clone(),
        workdir: job.workdir.clone(),
        deadline: Duration::from_secs_f64(job.deadline.max(1.0)),
        max_fault_points: job.max_fault_points,
        only: job.only.clone(),
        pg,
        serial: std::cell::Cell::new(0),
    };
    let target = || target.clone().ok_or_else(|| "no PostgreSQL".to_string());
    match case.calls {
        Calls::SqlxPostgres(calls) => run_all(&pools::SqlxPg(target()?), calls, &ctx).await,
        Calls::SqlxSqlite(calls) => run_all(&pools::SqlxSqlite, calls, &ctx).await,
        Calls::R2d2Sqlite(calls) => run_all(&pools::R2d2Sqlite::default(), calls, &ctx).await,
        Calls::DeadpoolPostgres(calls) => run_all(&pools::DeadpoolPg(target()?), calls, &ctx).await,
        Calls::Bb8Postgres(calls) => run_all(&pools::Bb8Pg(target()?), calls, &ctx).await,
    }
    Ok(())
}

/// The tables the cases may use, made once per database (and in every fresh SQLite file).
const FIXTURE_PG: &str = "SELECT pg_advisory_lock(4242);
CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, name text NOT NULL, seen timestamptz);
INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'brian') ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS audit (user_id bigint, what text);
SELECT pg_advisory_unlock(4242);";

const FIXTURE_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS users (id integer PRIMARY KEY, name text NOT NULL, seen text);
INSERT OR IGNORE INTO users (id, name) VALUES (1, 'ada'), (2, 'brian');
CREATE TABLE IF NOT EXISTS audit (user_id integer, what text);";

/// What one call did and what was measured after it.
#[derive(Default)]
struct Run {
    kind: &'static str,
    fault_at: Option<u32>,
    /// "return", "error", "panic", "deadline", "setup"
    exit: &'static str,
    error: Option<String>,
    seconds: f64,
    statements: u32,
    injected: bool,
    /// Checked out while what the call returned was alive.
    handed_over: u32,
    /// Checked out after it was dropped: the pool never gets these back.
    left_out: u32,
    /// The library's timeout counter, or its timeout error text.
    acquire_timed_out: bool,
    pg_backends: Option<i64>,
    problem: Option<String>,
}

impl Run {
    fn to_json(&self) -> Value {
        let mut note = Vec::new();
        if self.handed_over > self.left_out {
            note.push(format!(
                "{} connection(s) handed to the caller in what it returned",
                self.handed_over - self.left_out
            ));
        }
        if self.left_out > 0 {
            note.push(format!(
                "{} connection(s) still checked out after the call and what it returned were dropped",
                self.left_out
            ));
        }
        if self.acquire_timed_out {
            note.push("an acquire timed out".into());
        }
        json!({
            "kind": self.kind, "fault_at": self.fault_at, "exit": self.exit,
            "exception": self.error, "seconds": (self.seconds * 1000.0).round() / 1000.0,
            "statements": self.statements, "fault_injected": self.injected,
            "handed_over": self.handed_over, "left_out": self.left_out,
            "acquire_timed_out": self.acquire_timed_out, "pg_backends": self.pg_backends,
            "problem": self.problem, "note": note.join("; "),
        })
    }
}

async fn run_all<R: Runtime>(rt: &R, calls: &[Call<R::Pool>], ctx: &Ctx) {
    for call in calls {
        if let Some(only) = &ctx.only {
            if !only.iter().any(|n| n == call.name) {
                continue;
            }
        }
        emit(json!({"event": "begin", "name": call.name}));
        let result = run_function(rt, call, ctx).await;
        emit(result);
    }
}

const POOL: u32 = 3;
const SHORT_ACQUIRE: Duration = Duration::from_secs(2);
const CONCURRENT: u32 = 3;
/// Below this, one call's duration is DB work, not a wait the connection is held across.
const MIN_WAIT: Duration = Duration::from_millis(100);

async fn run_function<R: Runtime>(rt: &R, call: &Call<R::Pool>, ctx: &Ctx) -> Value {
    let mut runs = Vec::new();
    let mut errors = Vec::new();

    // 1. Normal run, counting statements.
    let normal = one_run(rt, call, ctx, "normal", POOL, ctx.deadline, None).await;
    let statements = normal.statements;
    runs.push(normal);
    // 2. Faults, one per statement.
    if ctx.pg.is_some() {
        for k in 1..=statements.min(ctx.max_fault_points) {
            emit(json!({"event": "run"}));
            runs.push(one_run(rt, call, ctx, "fault", POOL, ctx.deadline, Some(k)).await);
        }
    }
    // 3. A pool of one.
    emit(json!({"event": "run"}));
    let single = one_run(rt, call, ctx, "pool-of-one", 1, SHORT_ACQUIRE, None).await;
    let normal_timed_out = runs[0].acquire_timed_out || runs[0].exit == "deadline";
    let deadlock = (single.acquire_timed_out || single.exit == "deadline") && !normal_timed_out;
    let single_time = single.seconds;
    let single_ok = single.exit == "return" && !single.acquire_timed_out;
    runs.push(single);

    // 4. Concurrent calls on a pool of one.
    let mut starvation = false;
    if call.is_async {
        emit(json!({"event": "run"}));
        let (run, verdict) = concurrent_run(rt, call, ctx, single_time, single_ok).await;
        match verdict {
            Ok(s) => starvation = s,
            Err(e) => errors.push(e),
        }
        runs.push(run);
    }

    for r in &runs {
        if let Some(p) = &r.problem {
            errors.push(format!("{} run: {p}", r.kind));
        }
    }
    if runs[0].exit == "deadline" {
        errors.push(format!(
            "the normal run did not finish within {} s",
            ctx.deadline.as_secs_f64()
        ));
    }
    if runs[0].exit == "setup" {
        errors.push(runs[0].error.clone().unwrap_or_default());
    }

    let mut classes = Vec::new();
    if runs.iter().any(|r| r.left_out > 0) {
        classes.push("normal");
    }
    if deadlock {
        classes.push("deadlock");
    }
    if starvation {
        classes.push("starvation");
    }
    let mut measured = vec!["normal", "deadlock"];
    if call.is_async {
        measured.push("starvation");
    }
    let verdict = if !errors.is_empty() {
        "error"
    } else if classes.is_empty() {
        "clean"
    } else {
        "leak"
    };
    json!({
        "event": "result", "name": call.name, "verdict": verdict, "classes": classes,
        "measured": measured, "runs": runs.iter().map(Run::to_json).collect::<Vec<_>>(),
        "error": if errors.is_empty() { None } else { Some(errors.join("; ")) },
    })
}

fn next_spec(ctx: &Ctx, name: &str, max: u32, acquire_timeout: Duration) -> PoolSpec {
    let n = ctx.serial.get() + 1;
    ctx.serial.set(n);
    // application_name is at most 63 bytes.
    let mut app = format!("clh-{}-{n}-{name}", ctx.file_id);
    app.truncate(63);
    PoolSpec {
        max,
        acquire_timeout,
        sqlite_file: ctx.workdir.join(format!("run-{n}.sqlite3")),
        app,
    }
}

async fn prepare_sqlite(file: &Path) -> Result<(), String> {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    sqlx::raw_sql(FIXTURE_SQLITE)
        .execute(&mut conn)
        .await
        .map_err(|e| format!("SQLite fixture: {e}"))?;
    conn.close().await.map_err(|e| format!("SQLite: {e}"))
}

/// Waits (up to 1 s) for the pool to have nothing checked out: sqlx gives connections back on
/// a spawned task.
async fn settle<R: Runtime>(rt: &R, pool: &R::Pool) -> Stats {
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let s = rt.stats(pool);
        if s.checked_out() == 0 || start.elapsed() > Duration::from_secs(1) {
            return s;
        }
    }
}

async fn backends(monitor: &tokio_postgres::Client, app: &str) -> Result<i64, String> {
    monitor
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend'",
            &[&app],
        )
        .await
        .and_then(|row| row.try_get::<_, i64>(0))
        .map_err(|e| format!("pg_stat_activity: {e}"))
}

fn timed_out<R: Runtime>(rt: &R, before: Stats, after: Stats, outcome: &Outcome) -> bool {
    after.timeouts > before.timeouts
        || outcome
            .error
            .as_deref()
            .is_some_and(|e| rt.timeout_texts().iter().any(|t| e.contains(t)))
}

#[allow(clippy::too_many_arguments)]
async fn one_run<R: Runtime>(
    rt: &R,
    call: &Call<R::Pool>,
    ctx: &Ctx,
    kind: &'static str,
    max: u32,
    acquire_timeout: Duration,
    fault_at: Option<u32>,
) -> Run {
    let spec = next_spec(ctx, call.name, max, acquire_timeout);
    let mut run = Run {
        kind,
        fault_at,
        ..Run::default()
    };
    if !rt.is_postgres() {
        if let Err(e) = prepare_sqlite(&spec.sqlite_file).await {
            run.exit = "setup";
            run.error = Some(e.clone());
            run.problem = Some(e);
            return run;
        }
    }
    let pool = match rt.build(&spec).await {
        Ok(p) => p,
        Err(e) => {
            run.exit = "setup";
            run.error = Some(e.clone());
            run.problem = Some(e);
            return run;
        }
    };
    let before = rt.stats(&pool);
    if let Some(pg) = &ctx.pg {
        pg.proxy.arm(fault_at);
    }
    let started = Instant::now();
    let outcome = tokio::time::timeout(ctx.deadline, CatchUnwind((call.call)(pool.clone()))).await;
    run.seconds = started.elapsed().as_secs_f64();
    if let Some(pg) = &ctx.pg {
        (run.statements, run.injected) = pg.proxy.disarm();
    }
    let outcome = match outcome {
        Ok(o) => {
            run.exit = match (&o.error, o.panicked) {
                (_, true) => "panic",
                (Some(_), false) => "error",
                (None, false) => "return",
            };
            o
        }
        Err(_) => {
            run.exit = "deadline";
            Outcome::panic(format!("no answer within {} s", ctx.deadline.as_secs_f64()))
        }
    };
    run.error = outcome.error.clone();
    // With what it returned still alive, then without it.
    let alive = settle(rt, &pool).await;
    run.handed_over = alive.checked_out();
    run.acquire_timed_out = timed_out(rt, before, alive, &outcome);
    drop(outcome);
    let after = settle(rt, &pool).await;
    run.left_out = after.checked_out();
    if let Some(pg) = &ctx.pg {
        // Two measures: the pool's open connections and the server's backends for this run.
        let start = Instant::now();
        loop {
            match backends(&pg.monitor, &spec.app).await {
                Ok(n) if n == i64::from(rt.stats(&pool).open) => {
                    run.pg_backends = Some(n);
                    break;
                }
                Ok(n) if start.elapsed() > Duration::from_secs(3) => {
                    run.pg_backends = Some(n);
                    run.problem = Some(format!(
                        "the pool says {} connection(s) open, pg_stat_activity shows {n} backend(s) for `{}`",
                        rt.stats(&pool).open,
                        spec.app
                    ));
                    break;
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => {
                    run.problem = Some(e);
                    break;
                }
            }
        }
    }
    drop(pool);
    if let Some(pg) = &ctx.pg {
        // Forgotten connections stay open in this process: the server ends them.
        let _ = pg
            .monitor
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&spec.app],
            )
            .await;
    } else {
        let _ = std::fs::remove_file(&spec.sqlite_file);
    }
    run
}

/// One call's time is known (`single`); N calls at once on a pool of one. Ok(true): starvation
/// (they took about N times as long: each held the only connection across its wait).
async fn concurrent_run<R: Runtime>(
    rt: &R,
    call: &Call<R::Pool>,
    ctx: &Ctx,
    single: f64,
    single_ok: bool,
) -> (Run, Result<bool, String>) {
    let mut run = Run {
        kind: "concurrent",
        ..Run::default()
    };
    if !single_ok {
        run.exit = "skipped";
        run.error = Some("the call on a pool of one did not return normally".into());
        return (run, Ok(false));
    }
    if single < MIN_WAIT.as_secs_f64() {
        run.exit = "skipped";
        run.error = Some(format!(
            "one call takes {:.0} ms: no wait long enough to measure starvation",
            single * 1000.0
        ));
        return (run, Ok(false));
    }
    let spec = next_spec(ctx, call.name, 1, ctx.deadline);
    if !rt.is_postgres() {
        if let Err(e) = prepare_sqlite(&spec.sqlite_file).await {
            return (run, Err(e));
        }
    }
    let pool = match rt.build(&spec).await {
        Ok(p) => p,
        Err(e) => return (run, Err(e)),
    };
    let started = Instant::now();
    let calls: Vec<_> = (0..CONCURRENT)
        .map(|_| CatchUnwind((call.call)(pool.clone())))
        .collect();
    let all = async {
        let mut outs = Vec::new();
        // Polled together on this task: they interleave at every await.
        let mut futs: Vec<Pin<Box<CatchUnwind>>> = calls.into_iter().map(Box::pin).collect();
        let mut done: Vec<Option<Outcome>> = futs.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (f, d) in futs.iter_mut().zip(done.iter_mut()) {
                if d.is_none() {
                    match f.as_mut().poll(cx) {
                        Poll::Ready(o) => *d = Some(o),
                        Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        outs.extend(done.into_iter().flatten());
        outs
    };
    let limit = ctx.deadline + Duration::from_secs_f64(single * f64::from(CONCURRENT) * 2.0);
    let outs = tokio::time::timeout(limit, all).await;
    let total = started.elapsed().as_secs_f64();
    run.seconds = total;
    let ratio = total / single;
    let verdict = match outs {
        Err(_) => {
            run.exit = "deadline";
            Err(format!(
                "{CONCURRENT} concurrent calls did not finish within {} s",
                limit.as_secs_f64()
            ))
        }
        Ok(outs) => {
            let failed = outs.iter().filter(|o| o.error.is_some()).count();
            run.exit = if failed == 0 { "return" } else { "error" };
            run.error = Some(format!(
                "{CONCURRENT} concurrent calls on a pool of one: {:.0} ms, one call alone {:.0} ms (x{ratio:.1}); {failed} failed",
                total * 1000.0,
                single * 1000.0
            ));
            if failed > 0 {
                Err(format!(
                    "{failed} of {CONCURRENT} concurrent calls failed: {}",
                    outs.iter()
                        .find_map(|o| o.error.clone())
                        .unwrap_or_default()
                ))
            } else if ratio >= f64::from(CONCURRENT) - 0.5 {
                Ok(true)
            } else if ratio < 1.5 {
                Ok(false)
            } else {
                Err(format!("inconclusive starvation measure: x{ratio:.1} (neither about 1 nor about {CONCURRENT})"))
            }
        }
    };
    drop(pool);
    if let Some(pg) = &ctx.pg {
        let _ = pg
            .monitor
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&spec.app],
            )
            .await;
    } else {
        let _ = std::fs::remove_file(&spec.sqlite_file);
    }
    (run, verdict)
}
