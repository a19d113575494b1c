//! CL012 `acquire-call-without-timeout` (off by default).

use connlint_analyzer::FunctionSummary;

use crate::{declare_rule, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for acquiring calls whose wait for a free connection is bounded only by an
    /// argument of the call, made without it: asyncpg `await pool.acquire()` and
    /// `async with pool.acquire()` without `timeout=` (or with `timeout=None`). This is the
    /// per-call side of CL010, which checks the pool's own configuration.
    ///
    /// ## Why is this bad?
    /// asyncpg's `acquire()` waits forever by default. When the pool is exhausted (a leak, a
    /// slow query, a burst) every request that needs the database hangs instead of failing,
    /// and nothing says so. With `timeout=` the same situation raises `asyncio.TimeoutError`,
    /// which can be logged, retried and alerted on.
    ///
    /// It is off by default because many services bound the whole request with a deadline
    /// instead (`asyncio.timeout`, a server's request timeout); enable it with
    /// `--select CL012` or `select = ["CL012"]` (`extend` your selection) where they do not.
    ///
    /// ## Example
    /// ```python
    /// import asyncpg
    ///
    /// async def load(pool: asyncpg.Pool):
    ///     async with pool.acquire() as conn:
    ///         return await conn.fetch("select * from jobs")
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// import asyncpg
    ///
    /// async def load(pool: asyncpg.Pool):
    ///     async with pool.acquire(timeout=5) as conn:
    ///         return await conn.fetch("select * from jobs")
    /// ```
    ///
    /// ## Known limitations
    /// Only asyncpg is checked: the other libraries connlint knows have a wait limit on the
    /// pool (CL010 reports the pools configured without one). A deadline around the request
    /// (`async with asyncio.timeout(5):`, a server's request timeout) is not seen;
    /// `asyncio.wait_for(pool.acquire(), 5)` is not reported.
    pub struct AcquireCallWithoutTimeout {
        code: "CL012",
        name: "acquire-call-without-timeout",
        severity: Warning,
        default_enabled: false,
    }
}

impl Rule for AcquireCallWithoutTimeout {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        for acq in &function.acquisitions {
            let Some(keyword) = &acq.waits_forever_without else {
                continue;
            };
            let mut finding = Finding::new(
                &Self::META,
                acq.span,
                function,
                format!(
                    "`{}` waits forever for a connection when the pool is exhausted",
                    acq.api
                ),
            );
            finding.primary_label = format!("no `{keyword}=` here");
            finding.help = format!(
                "pass `{keyword}=` (seconds) so that an exhausted pool raises instead of hanging"
            )
            .into();
            findings.push(finding);
        }
    }
}
