//! CL005 `pool-created-per-call`.

use connlint_analyzer::{FileAnalysis, Placement};

use crate::{declare_rule, pool_finding, Finding, Label, Limits, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for connection pools (and clients that own one, like `redis.Redis()`) built
    /// where they will be built again and again: on every call of a function that neither keeps
    /// nor returns them, in a loop, or once per key (`@lru_cache` on a function with arguments,
    /// a dict of pools keyed by a project or tenant).
    ///
    /// ## Why is this bad?
    /// A pool is meant to be built once per process. One built per call opens fresh
    /// connections every time and keeps them until the garbage collector closes the pool, so a
    /// busy endpoint holds many pools' worth of connections. One built per key multiplies the
    /// pool size by the number of keys: 5 projects with a pool of 10 each are 50 connections
    /// per process, which nobody sees in the configuration.
    ///
    /// ## Example
    /// ```python
    /// import psycopg2.pool
    ///
    /// def count_users(dsn):
    ///     pool = psycopg2.pool.SimpleConnectionPool(1, 5, dsn)
    ///     conn = pool.getconn()
    ///     try:
    ///         return conn.cursor().execute("select count(*) from users")
    ///     finally:
    ///         pool.putconn(conn)
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// import psycopg2.pool
    ///
    /// POOL = psycopg2.pool.SimpleConnectionPool(1, 5, "dbname=app")
    ///
    /// def count_users():
    ///     conn = POOL.getconn()
    ///     try:
    ///         return conn.cursor().execute("select count(*) from users")
    ///     finally:
    ///         POOL.putconn(conn)
    /// ```
    ///
    /// Not reported: pools built at module level, behind a singleton guard
    /// (`global _pool` / `if _pool is None:`), in a start-up function (`main`, `cli`,
    /// `startup`, `lifespan`, `create_app`, an `on_event("startup")` handler), stored on `self`
    /// in `__init__` (directly or through a local), or returned to the caller (a factory, also
    /// from inside a retry loop).
    ///
    /// A pool factory's callers are checked the same way: calling `make_engine(url)` in a
    /// request handler is reported at that call, across files; so is building, per request, an
    /// instance of a class whose `__init__` keeps a pool on `self`.
    ///
    /// ## Known limitations
    /// A factory called through a method (`self.make_pool()`) is not followed, nor, in Rust, the
    /// callers of a function that returns a pool.
    pub struct PoolCreatedPerCall {
        code: "CL005",
        name: "pool-created-per-call",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for PoolCreatedPerCall {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_file(&self, analysis: &FileAnalysis, _limits: &Limits, findings: &mut Vec<Finding>) {
        for pool in &analysis.pools {
            let what = match &pool.via {
                Some(factory) => format!("{} pool (built by {factory})", pool.library),
                None => format!("{} pool", pool.library),
            };
            let (message, label) = match &pool.placement {
                Placement::PerCall => (
                    format!("{what} is built on every call of `{}`", pool.function),
                    "built here, on every call, and not kept".to_string(),
                ),
                // A factory's caller that is itself a factory: reported where it repeats.
                Placement::Factory => continue,
                Placement::Loop { .. } => (
                    format!("{what} is built on every iteration of a loop"),
                    "built here, once per iteration".to_string(),
                ),
                Placement::PerKey { why } => (
                    format!("{what} is built once per key in `{}`", pool.function),
                    why.clone(),
                ),
                _ => continue,
            };
            let mut finding = pool_finding(
                &Self::META,
                pool,
                pool.span,
                message,
                label,
                "build the pool once per process (module level, a singleton guard or start-up) \
                 and share it; for many databases, bound how many pools can exist"
                    .into(),
            );
            if let Placement::Loop { at } = pool.placement {
                finding.labels.push(Label {
                    span: at,
                    message: "the loop".into(),
                });
            }
            findings.push(finding);
        }
    }
}
