//! CL008 `context-manager-does-not-close`.

use connlint_analyzer::FunctionSummary;

use crate::{declare_rule, quoted, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for `with` blocks on connections whose `with` ends a transaction but does not
    /// close the connection: `psycopg2.connect()`, `sqlite3.connect()`, and a pooled
    /// connection taken with `getconn()`, when nothing closes or returns it afterwards.
    ///
    /// ## Why is this bad?
    /// `with conn:` reads as if it cleans up, so nobody adds a `close()`. For psycopg2 and
    /// sqlite3 it only commits (or rolls back on an exception): the connection stays open
    /// until the garbage collector finds it. In a server that opens one per request, the
    /// database runs out of connection slots ("too many clients already").
    ///
    /// ## Example
    /// ```python
    /// import psycopg2
    ///
    /// def save(dsn, row):
    ///     with psycopg2.connect(dsn) as conn:
    ///         conn.cursor().execute("insert into t values (%s)", (row,))
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// import contextlib
    /// import psycopg2
    ///
    /// def save(dsn, row):
    ///     with contextlib.closing(psycopg2.connect(dsn)) as conn, conn:
    ///         conn.cursor().execute("insert into t values (%s)", (row,))
    /// ```
    ///
    /// ## Known limitations
    /// Version differences are not modelled: PyMySQL before 1.0 and mysqlclient before 2.0
    /// also only ended a transaction, but are treated as closing, like their current versions.
    pub struct ContextManagerDoesNotClose {
        code: "CL008",
        name: "context-manager-does-not-close",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for ContextManagerDoesNotClose {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        for acq in &function.acquisitions {
            // Ex) `with sqlite3.connect(p) as conn: ...` followed by `conn.close()`.
            let Some((with_span, note)) = &acq.context_misuse else {
                continue;
            };
            if acq.leaks.is_empty() {
                continue;
            }
            let mut finding = Finding::new(
                &Self::META,
                acq.span,
                function,
                format!(
                    "`with` does not close the connection from {}",
                    quoted(&acq.api)
                ),
            );
            finding.primary_label = format!("opened here ({})", acq.resource);
            finding = finding.label(*with_span, note.clone());
            for leak in &acq.leaks {
                if leak.at != *with_span {
                    finding = finding.label(leak.at, "still open when the function ends here");
                }
            }
            finding.help = if acq.resource.contains("pool") {
                "give it back with the pool's release call in `finally:`, or take it with the pool's context manager".into()
            } else {
                "wrap it in `contextlib.closing(...)`, or call `close()` in a `finally:` block"
                    .into()
            };
            findings.push(finding);
        }
    }
}
