//! CL010 `acquire-without-timeout`.

use connlint_analyzer::FileAnalysis;

use crate::{declare_rule, pool_finding, Finding, Limits, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for pools configured so that a caller waits forever when every connection is in
    /// use: aiomysql pools (their `acquire()` takes no timeout), DBUtils
    /// `PooledDB(blocking=True)`, redis `BlockingConnectionPool(timeout=None)`.
    ///
    /// ## Why is this bad?
    /// When the pool is exhausted (a leak, a slow query, a burst) every new request hangs
    /// instead of failing. Nothing is logged, health checks that do not touch the database
    /// stay green, and the service looks alive while serving nothing. A timeout turns the same
    /// situation into errors someone can see and alert on.
    ///
    /// ## Example
    /// ```python
    /// from dbutils.pooled_db import PooledDB
    /// import psycopg2
    ///
    /// POOL = PooledDB(psycopg2, maxconnections=10, blocking=True)
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// from dbutils.pooled_db import PooledDB
    /// import psycopg2
    ///
    /// # Fails fast with TooManyConnections when all 10 are in use.
    /// POOL = PooledDB(psycopg2, maxconnections=10, blocking=False)
    /// ```
    ///
    /// ## Known limitations
    /// Waits passed per call (asyncpg `acquire(timeout=...)`) are not checked yet.
    pub struct AcquireWithoutTimeout {
        code: "CL010",
        name: "acquire-without-timeout",
        severity: Warning,
        default_enabled: true,
    }
}

impl Rule for AcquireWithoutTimeout {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_file(&self, analysis: &FileAnalysis, _limits: &Limits, findings: &mut Vec<Finding>) {
        // A call to a pool factory: its size and waits are the factory's, reported there.
        for pool in analysis.pools.iter().filter(|p| p.via.is_none()) {
            let Some(setting) = &pool.waits_forever else {
                continue;
            };
            findings.push(pool_finding(
                &Self::META,
                pool,
                setting.span,
                format!(
                    "callers of this {} pool wait forever when it is exhausted",
                    pool.library
                ),
                setting.note.clone(),
                "configure a timeout (or a non-blocking pool) so that exhaustion becomes an error"
                    .into(),
            ));
        }
    }
}
