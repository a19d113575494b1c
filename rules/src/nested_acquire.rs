//! CL007 `nested-acquire`.

use connlint_analyzer::FunctionSummary;

use crate::{declare_rule, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for a second connection taken from a pool while a connection or transaction from
    /// the same pool is still held in the same function, directly or through a function of the
    /// project that acquires from the pool it is given (or, in Rust, from its `self` field).
    ///
    /// ## Why is this bad?
    /// Each request then needs two connections at once. When as many requests as the pool has
    /// connections arrive together, each holds one connection and waits for a second that will
    /// never come: the service deadlocks until the acquire timeout, under exactly the load it
    /// was sized for. In Rust the first connection is easy to keep by accident: a `let` guard
    /// lives to the end of its block after its last use, and shadowing does not drop it.
    ///
    /// ## Example
    /// ```rust
    /// async fn rename(pool: &sqlx::PgPool, id: i64, name: &str) -> Result<(), sqlx::Error> {
    ///     let mut tx = pool.begin().await?;
    ///     sqlx::query("update users set name = $1 where id = $2")
    ///         .bind(name)
    ///         .bind(id)
    ///         .execute(&mut *tx)
    ///         .await?;
    ///     sqlx::query("insert into audit (user_id) values ($1)")
    ///         .bind(id)
    ///         .execute(pool)
    ///         .await?;
    ///     tx.commit().await
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```rust
    /// async fn rename(pool: &sqlx::PgPool, id: i64, name: &str) -> Result<(), sqlx::Error> {
    ///     let mut tx = pool.begin().await?;
    ///     sqlx::query("update users set name = $1 where id = $2")
    ///         .bind(name)
    ///         .bind(id)
    ///         .execute(&mut *tx)
    ///         .await?;
    ///     sqlx::query("insert into audit (user_id) values ($1)")
    ///         .bind(id)
    ///         .execute(&mut *tx)
    ///         .await?;
    ///     tx.commit().await
    /// }
    /// ```
    ///
    /// The same applies to Python pools (psycopg2, psycopg_pool, asyncpg, SQLAlchemy engines):
    /// `pool.getconn()`, `async with pool.acquire()` or a helper given `pool` while a connection
    /// from `pool` is held.
    ///
    /// ## Known limitations
    /// Pools are matched by how they are written (`pool`, `self.pool`, `state.db`): two names
    /// for one pool are not known to be the same. In Rust, callees are resolved by name and
    /// path within the crate; in Python, callees are followed when they take a connection from a
    /// pool passed to them (not from `self.pool`). Code inside Rust macros (`tokio::join!`,
    /// `sqlx::query!` arguments) is not read.
    pub struct NestedAcquire {
        code: "CL007",
        name: "nested-acquire",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for NestedAcquire {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        for nested in &function.nested_acquires {
            let held = match &nested.held_binding {
                Some(name) => format!("`{name}`"),
                None => "a connection".to_string(),
            };
            let message = if nested.at == nested.held {
                format!(
                    "a connection is taken from `{}` again while the previous one is still held",
                    nested.pool
                )
            } else if nested.chain.is_empty() {
                format!(
                    "a second connection is taken from `{}` while {held} from the same pool is still held",
                    nested.pool
                )
            } else {
                format!(
                    "`{}` takes a second connection from `{}` while {held} from the same pool is still held",
                    nested.api, nested.pool
                )
            };
            let mut finding = Finding::new(&Self::META, nested.at, function, message);
            finding.primary_label = if nested.chain.is_empty() {
                "second acquisition from the same pool".into()
            } else {
                format!("acquires through {}", nested.chain.join(" -> "))
            };
            if nested.at == nested.held {
                finding.primary_label =
                    "when the loop comes back here, the previous connection is still held".into();
            } else {
                finding =
                    finding.label(nested.held, format!("{held} is taken here and still held"));
            }
            finding.help = "finish with the first connection (let it drop, `drop(conn)`, or commit the transaction) before taking another, or pass `&mut *conn` down instead of the pool".into();
            findings.push(finding);
        }
    }
}
