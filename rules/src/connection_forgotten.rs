//! CL009 `connection-forgotten`.

use connlint_analyzer::FunctionSummary;

use crate::{declare_rule, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for pooled connections that are forgotten or leaked in Rust: passed to
    /// `std::mem::forget`, wrapped in `ManuallyDrop::new`, put in `Box::leak`, or leaked with
    /// sqlx's `PoolConnection::leak()`.
    ///
    /// ## Why is this bad?
    /// A pooled connection goes back to its pool when it is dropped. A forgotten one is never
    /// dropped: the pool counts it as checked out for the rest of the process, so each call
    /// shrinks the pool by one until every caller waits for the acquire timeout. sqlx documents
    /// `leak()` as "permanently checked-out", reducing the pool's capacity by one.
    ///
    /// ## Example
    /// ```rust
    /// fn version(pool: &r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>) -> String {
    ///     let conn = pool.get().unwrap();
    ///     let v: String = conn.query_row("select sqlite_version()", [], |r| r.get(0)).unwrap();
    ///     std::mem::forget(conn);
    ///     v
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```rust
    /// fn version(pool: &r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>) -> String {
    ///     let conn = pool.get().unwrap();
    ///     conn.query_row("select sqlite_version()", [], |r| r.get(0)).unwrap()
    /// }
    /// ```
    ///
    /// Taking a connection out of its pool on purpose, for a dedicated `LISTEN` connection,
    /// with sqlx `detach()`, deadpool `Object::take()` or mobc `into_inner()` is not a finding:
    /// the pool opens a replacement or shrinks knowingly.
    ///
    /// ## Known limitations
    /// Only connections acquired in the same function are followed; a connection received as
    /// a parameter and forgotten is not reported. Forgetting a struct that holds a connection
    /// is reported only when the struct was built in the same function.
    pub struct ConnectionForgotten {
        code: "CL009",
        name: "connection-forgotten",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for ConnectionForgotten {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        for forget in &function.forgets {
            let mut finding = Finding::new(
                &Self::META,
                forget.at,
                function,
                format!(
                    "{} from `{}` is forgotten with {} and never goes back to its pool",
                    forget.resource, forget.api, forget.how
                ),
            );
            finding.primary_label = "forgotten here: its drop never runs".into();
            finding = finding.label(forget.acquired, "acquired here");
            finding.help = "let it drop (or call `drop(conn)`) so it returns to the pool; to take it out of the pool for good, use sqlx `detach()` or deadpool `Object::take()` so the pool can replace it".into();
            findings.push(finding);
        }
    }
}
