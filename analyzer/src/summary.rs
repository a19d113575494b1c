//! The flow summaries that front ends produce and rules read: plain data, no syntax.

use serde::{Deserialize, Serialize};

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    Python,
    Rust,
}

/// Everything the analyzer learned from one file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileAnalysis {
    pub functions: Vec<FunctionSummary>,
    pub problems: Vec<Problem>,
    /// Every pool (or client that owns a pool) built in the file.
    pub pools: Vec<PoolConstruction>,
}

impl FileAnalysis {
    /// Gives back the spare capacity of every list, once the analysis is complete. Lists
    /// grown by `push` keep room for 4 entries or double what they hold, and an acquisition
    /// is about 330 bytes: on a tree where every file holds connections, that room was a
    /// quarter of the heap at its peak (issue 9's memory target).
    pub(crate) fn shrink(&mut self) {
        for f in &mut self.functions {
            for a in &mut f.acquisitions {
                a.leaks.shrink_to_fit();
                a.exception_leaks.shrink_to_fit();
                a.reacquired.shrink_to_fit();
                a.held_across.shrink_to_fit();
            }
            f.acquisitions.shrink_to_fit();
            f.releases_params.shrink_to_fit();
            f.stores_params.shrink_to_fit();
            f.nested_acquires.shrink_to_fit();
            f.forgets.shrink_to_fit();
            f.acquires_from_params.shrink_to_fit();
            f.acquires_from_fields.shrink_to_fit();
        }
        self.functions.shrink_to_fit();
        self.problems.shrink_to_fit();
        self.pools.shrink_to_fit();
    }
}

/// One place a connection pool is built, with what its configuration says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolConstruction {
    /// The constructor call.
    pub span: Span,
    /// As written: `create_engine()`, `psycopg2.pool.ThreadedConnectionPool()`.
    pub api: String,
    /// The library's name in the tables: `SQLAlchemy`, `asyncpg`.
    pub library: String,
    /// The database server whose connection slots it uses: `PostgreSQL`, `MySQL`, `Redis`;
    /// empty when it uses none (SQLite).
    pub database: String,
    /// How many connections it may open at once.
    pub max: PoolMax,
    /// Whether a caller waits forever when it is exhausted, and why.
    pub waits_forever: Option<Setting>,
    /// Where it is built, hence how many times.
    pub placement: Placement,
    /// The function it is built in (`<module>` at top level).
    pub function: String,
    /// What it is stored in, when it is: `ENGINE`, `self.pool`, `_pools[key]`.
    pub binding: Option<String>,
    /// The project function that builds it, when this is a call to a pool factory
    /// (`make_engine` (db.py:12)); its size, waits and budget belong to the factory's own
    /// construction.
    pub via: Option<String>,
}

/// A configuration value and where it was set (the argument, or the call when defaulted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub span: Span,
    /// Why it means what it means: "`maxsize=0` means no limit in aiomysql".
    pub note: String,
}

/// The most connections a pool opens at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolMax {
    /// A computed number (from literals, constants, simple arithmetic, `min()` clamps, or the
    /// library's default), with how it was reached: "pool_size 5 + max_overflow 10".
    Limit { value: u64, how: String, at: Span },
    /// The configuration asks for no limit.
    Unbounded(Setting),
    /// Read from the environment with nothing capping it: `int(os.environ.get("POOL", "10"))`.
    FromEnvironment {
        variable: String,
        default: Option<u64>,
        at: Span,
    },
    /// Not computable here (a function argument, a settings object).
    Unknown,
}

/// Where a pool is built, which decides how many of it exist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    /// At module level (or in a class body): once per process.
    Module,
    /// Behind a guard that builds it once (`global _pool; if _pool is None: ...`,
    /// `@lru_cache` without arguments).
    Singleton,
    /// In a start-up function (`main`, `startup`, a `lifespan` handler, `create_app`).
    Startup,
    /// Stored on `self` in `__init__`: once per instance.
    Instance,
    /// Returned to the caller, who decides.
    Factory,
    /// Built on every call of its function and not kept.
    PerCall,
    /// Built once per key: `@lru_cache` on a function with arguments, a dict keyed by one.
    PerKey { why: String },
    /// Built on every iteration of a loop.
    Loop { at: Span },
}

impl Placement {
    /// Whether the pool is built again and again (CL005).
    pub fn repeats(&self) -> bool {
        matches!(
            self,
            Placement::PerCall | Placement::PerKey { .. } | Placement::Loop { .. }
        )
    }
}

/// Something that kept part of a file from being analysed: a syntax error, nesting too deep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub span: Option<Span>,
    pub message: String,
}

/// What one function does with connections.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FunctionSummary {
    /// Qualified within the file: `load`, `Repo.get`, `outer.inner`; `<module>` for top level.
    pub name: String,
    /// The function's name in its `def` (the whole module for `<module>`).
    pub span: Span,
    pub is_async: bool,
    pub acquisitions: Vec<Acquisition>,
    /// A function that returns a connection it acquired: calls to it acquire.
    pub returns_connection: bool,
    /// Parameters (0-based, `self`/`cls` not counted) released on every normal path.
    pub releases_params: Vec<usize>,
    /// Parameters stored into an attribute, a global or a container.
    pub stores_params: Vec<usize>,
    /// A `__del__` that is the only thing that ever releases its class's connection.
    pub finalizer_only: bool,
    /// A second connection taken from a pool while one from the same pool is held (CL007).
    pub nested_acquires: Vec<NestedAcquire>,
    /// Connections made to never go back to their pool (CL009).
    pub forgets: Vec<Forget>,
    /// Parameters (0-based, `self` not counted) that are pools this function acquires from,
    /// itself or through a callee.
    pub acquires_from_params: Vec<usize>,
    /// Fields of `self` that are pools this function acquires from, itself or through a callee.
    pub acquires_from_fields: Vec<String>,
}

impl FunctionSummary {
    /// Whether it has nothing for the rules: no connection taken, given back, kept, forgotten
    /// or nested, no pool acquired from, not a finalizer that alone releases.
    pub fn says_nothing(&self) -> bool {
        self.acquisitions.is_empty()
            && !self.finalizer_only
            && !self.returns_connection
            && self.releases_params.is_empty()
            && self.stores_params.is_empty()
            && self.nested_acquires.is_empty()
            && self.forgets.is_empty()
            && self.acquires_from_params.is_empty()
            && self.acquires_from_fields.is_empty()
    }
}

/// A connection taken while another from the same pool is still held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedAcquire {
    /// The second acquisition, or the call to a function that acquires.
    pub at: Span,
    /// What was called there: `pool.acquire()`, `load_user()`.
    pub api: String,
    /// The pool both come from, as written: `pool`, `self.pool`.
    pub pool: String,
    /// Where the connection that is still held was taken.
    pub held: Span,
    pub held_binding: Option<String>,
    /// The callees through which `at` acquires (`load_user` -> `fetch_row`); empty when direct.
    pub chain: Vec<String>,
}

/// A connection forgotten or leaked: it will never be given back to its pool.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forget {
    /// The forgetting call: `std::mem::forget(conn)`, `conn.leak()`.
    pub at: Span,
    /// How, as written: `mem::forget`, `ManuallyDrop::new`, `Box::leak`, `leak()`.
    pub how: String,
    /// The acquisition of what was forgotten.
    pub acquired: Span,
    pub api: String,
    pub resource: String,
}

/// An `await` reached while a connection is held that waits for slow, unrelated work.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAwait {
    pub at: Span,
    /// What it waits for: "a sleep", "an HTTP request", "a connection from pool `other`".
    pub what: String,
}

/// One place a connection is taken, and how it stands at the function's exits.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Acquisition {
    /// The acquiring call (`pool.getconn()`), or the call to a factory.
    pub span: Span,
    /// What was called, as written: `pool.getconn()`, `psycopg2.connect()`.
    pub api: String,
    /// What kind of connection it is, e.g. "psycopg2 pooled connection", "`Wrapped` object".
    pub resource: String,
    /// The user finalizer that would release it when it is garbage collected, described with
    /// its location; set only for instances of project classes that have one.
    pub finalizer: Option<String>,
    /// The factory in this project that acquired it, when the call is to one.
    pub via: Option<String>,
    /// The variable it was first bound to.
    pub binding: Option<String>,
    /// Taken by `with`/`async with` whose exit gives it back.
    pub scoped: bool,
    /// Normal exits reached while it is still held.
    pub leaks: Vec<Leak>,
    /// Exceptional exits reached while it is still held.
    pub exception_leaks: Vec<Leak>,
    /// The same site acquired again (a loop) while the previous connection was still held.
    pub reacquired: Vec<Span>,
    /// A `with` on the connection that does not give it back, and what that `with` does.
    pub context_misuse: Option<(Span, String)>,
    pub returned: bool,
    pub stored: bool,
    /// The pool it comes from, as written (`pool`, `self.pool`), when known.
    pub pool: Option<String>,
    /// Awaits of slow unrelated work while it is held (CL006).
    pub held_across: Vec<HeldAwait>,
    /// Taken with a call that waits forever when the pool is exhausted because it passes no
    /// timeout (asyncpg `pool.acquire()` without `timeout=`): the keyword to pass (CL012).
    pub waits_forever_without: Option<String>,
}

/// One way out of the function with the connection still held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leak {
    pub kind: ExitKind,
    /// The `return`, the raising call, or the end of the function.
    pub at: Span,
    /// Where it became unreachable while held, when that happened before the exit.
    pub lost: Option<Lost>,
}

/// How a held connection became unreachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lost {
    /// The only variable naming it was assigned something else (or deleted).
    Overwritten(Span),
    /// It was never bound: used as a temporary (`pool.getconn().cursor()`) and dropped.
    Dropped(Span),
}

impl Lost {
    pub fn span(self) -> Span {
        match self {
            Lost::Overwritten(s) | Lost::Dropped(s) => s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitKind {
    Return,
    FallThrough,
    Raise,
}

impl FileAnalysis {
    /// A compact, stable text form of the summaries, one fact per line, for tests and
    /// debugging (`cargo run -p connlint_analyzer --example dump FILE`).
    pub fn dump(&self, text: &str) -> String {
        use std::fmt::Write;
        let index = crate::LineIndex::new(text);
        let line = |s: Span| index.line_col(s.start).line;
        let mut out = String::new();
        for pool in &self.pools {
            let max = match &pool.max {
                PoolMax::Limit { value, how, .. } => format!("max {value} ({how})"),
                PoolMax::Unbounded(s) => format!("unbounded ({})", s.note),
                PoolMax::FromEnvironment {
                    variable, default, ..
                } => format!("max from ${variable} (default {default:?})"),
                PoolMax::Unknown => "max unknown".to_string(),
            };
            let waits = pool
                .waits_forever
                .as_ref()
                .map(|s| format!(", waits forever ({})", s.note))
                .unwrap_or_default();
            let binding = pool
                .binding
                .as_ref()
                .map(|b| format!(" -> {b}"))
                .unwrap_or_default();
            let via = pool
                .via
                .as_ref()
                .map(|v| format!(" via {v}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "pool {}{via} line {} in {}{binding}: {} {}, {max}{waits}, {:?}",
                pool.api,
                line(pool.span),
                pool.function,
                pool.library,
                if pool.database.is_empty() {
                    "-"
                } else {
                    &pool.database
                },
                pool.placement,
            );
        }
        for p in &self.problems {
            let at = p
                .span
                .map(|s| format!(" (line {})", line(s)))
                .unwrap_or_default();
            let _ = writeln!(out, "problem{at}: {}", p.message);
        }
        for f in &self.functions {
            if f.says_nothing() {
                continue;
            }
            let mut facts = Vec::new();
            if f.returns_connection {
                facts.push("returns a connection".to_string());
            }
            if !f.releases_params.is_empty() {
                facts.push(format!("releases params {:?}", f.releases_params));
            }
            if !f.stores_params.is_empty() {
                facts.push(format!("stores params {:?}", f.stores_params));
            }
            if f.finalizer_only {
                facts.push("the only release of its class".to_string());
            }
            if !f.acquires_from_params.is_empty() {
                facts.push(format!("acquires from params {:?}", f.acquires_from_params));
            }
            if !f.acquires_from_fields.is_empty() {
                facts.push(format!("acquires from fields {:?}", f.acquires_from_fields));
            }
            let facts = if facts.is_empty() {
                String::new()
            } else {
                format!(": {}", facts.join(", "))
            };
            let _ = writeln!(out, "{}{facts}", f.name);
            for a in &f.acquisitions {
                let mut how = Vec::new();
                if a.scoped {
                    how.push("scoped");
                }
                if a.returned {
                    how.push("returned");
                }
                if a.stored {
                    how.push("stored");
                }
                let how = if how.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", how.join(", "))
                };
                let via = a
                    .via
                    .as_ref()
                    .map(|v| format!(" via {v}"))
                    .unwrap_or_default();
                let fin = a
                    .finalizer
                    .as_ref()
                    .map(|f| format!(", released only by {f}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {} line {}{via}{how}{fin}", a.api, line(a.span));
                for l in &a.leaks {
                    let lost = match l.lost {
                        Some(Lost::Overwritten(s)) => format!(", overwritten at line {}", line(s)),
                        Some(Lost::Dropped(s)) => format!(", dropped at line {}", line(s)),
                        None => String::new(),
                    };
                    let _ = writeln!(out, "    held at {:?} line {}{lost}", l.kind, line(l.at));
                }
                let mut raises: Vec<u32> = a.exception_leaks.iter().map(|l| line(l.at)).collect();
                raises.sort_unstable();
                raises.dedup();
                if !raises.is_empty() {
                    let _ = writeln!(out, "    held if raised at lines {raises:?}");
                }
                for r in &a.reacquired {
                    let _ = writeln!(out, "    acquired again while held at line {}", line(*r));
                }
                if let Some((s, _)) = a.context_misuse {
                    let _ = writeln!(out, "    `with` that does not release at line {}", line(s));
                }
                for h in &a.held_across {
                    let _ = writeln!(out, "    held across {} at line {}", h.what, line(h.at));
                }
            }
            for n in &f.nested_acquires {
                let via = if n.chain.is_empty() {
                    String::new()
                } else {
                    format!(" via {}", n.chain.join(" -> "))
                };
                let _ = writeln!(
                    out,
                    "  nested {} line {} from `{}`{via} while line {} is held",
                    n.api,
                    line(n.at),
                    n.pool,
                    line(n.held)
                );
            }
            for g in &f.forgets {
                let _ = writeln!(
                    out,
                    "  forgets {} from line {} with {} at line {}",
                    g.api,
                    line(g.acquired),
                    g.how,
                    line(g.at)
                );
            }
        }
        out
    }
}
