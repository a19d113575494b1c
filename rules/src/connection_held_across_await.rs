//! CL006 `connection-held-across-await`.

use connlint_analyzer::FunctionSummary;

use crate::{declare_rule, origin, primary_label, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for a pooled connection that stays checked out across an `.await` of slow work
    /// that does not use it: a sleep, an HTTP request (reqwest, hyper), a channel receive, a
    /// spawned task's join handle, a subprocess, or a connection or query from another pool.
    /// Awaiting a query on the held connection itself is fine, whatever the method is called:
    /// `await session.get(User, 1)` on a SQLAlchemy session acquired and still held in the
    /// function is a query, not the HTTP request that `session.get` is on an HTTP client.
    /// Rust and Python (asyncio).
    ///
    /// ## Why is this bad?
    /// While the task waits, the connection does nothing but still counts against the pool.
    /// A few slow HTTP calls or sleeps are enough to hold every connection, and requests that
    /// need the database for a millisecond queue behind them until the acquire timeout. Waiting
    /// on another pool while holding this one can also deadlock two pools against each other.
    ///
    /// ## Example
    /// ```rust
    /// async fn refresh(pool: &sqlx::PgPool, url: &str) -> Result<(), Box<dyn std::error::Error>> {
    ///     let mut conn = pool.acquire().await?;
    ///     let body = reqwest::get(url).await?.text().await?;
    ///     sqlx::query("insert into pages (body) values ($1)")
    ///         .bind(body)
    ///         .execute(&mut *conn)
    ///         .await?;
    ///     Ok(())
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```rust
    /// async fn refresh(pool: &sqlx::PgPool, url: &str) -> Result<(), Box<dyn std::error::Error>> {
    ///     let body = reqwest::get(url).await?.text().await?;
    ///     let mut conn = pool.acquire().await?;
    ///     sqlx::query("insert into pages (body) values ($1)")
    ///         .bind(body)
    ///         .execute(&mut *conn)
    ///         .await?;
    ///     Ok(())
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Slow work is recognised by name from a built-in list (`sleep`, `reqwest::get`, `.send()`
    /// on a request builder, `.recv()`, `.tick()`, join handles, subprocess `output()`/`wait()`)
    /// and, in Python, `asyncio.sleep`, `client.get()`/`session.post()` on an HTTP client,
    /// `queue.get()` and subprocesses, plus the functions named in `[functions] slow-await` of the
    /// configuration; other awaits are assumed to be quick. Awaits inside Rust macros
    /// (`tokio::select!`, `join!`) are not seen.
    pub struct ConnectionHeldAcrossAwait {
        code: "CL006",
        name: "connection-held-across-await",
        severity: Warning,
        default_enabled: true,
    }
}

impl Rule for ConnectionHeldAcrossAwait {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        for acq in &function.acquisitions {
            // Ex) nothing slow is awaited while it is held.
            let Some(first) = acq.held_across.first() else {
                continue;
            };
            let mut finding = Finding::new(
                &Self::META,
                acq.span,
                function,
                format!("{} is held across an await of {}", origin(acq), first.what),
            );
            finding.primary_label = primary_label(acq);
            for held in &acq.held_across {
                finding =
                    finding.label(held.at, format!("still held while awaiting {}", held.what));
            }
            finding.help = "drop the connection (or commit the transaction) before awaiting unrelated work, or acquire it after".into();
            findings.push(finding);
        }
    }
}
