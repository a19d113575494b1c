//! CL002 `connection-leaked-on-exception`.

use connlint_analyzer::FunctionSummary;

use crate::{declare_rule, origin, primary_label, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for connections that are released on every normal path, but not when a call
    /// between the acquisition and the release raises: the release is not in a `finally:`
    /// block or handled by `with`.
    ///
    /// ## Why is this bad?
    /// Database calls fail in production all the time: a statement timeout, a constraint
    /// violation, a dropped network link. Each failure that skips the release loses one
    /// connection from the pool, so a burst of errors drains the pool and turns a handful of
    /// failed requests into an outage. The most common shape is the release placed after the
    /// success path, and a `SET`/`PRAGMA` run between the acquisition and the `try`.
    ///
    /// ## Example
    /// ```python
    /// def count(pool):
    ///     conn = pool.getconn()
    ///     cur = conn.cursor()
    ///     cur.execute("select count(*) from jobs")
    ///     n = cur.fetchone()[0]
    ///     pool.putconn(conn)
    ///     return n
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// def count(pool):
    ///     conn = pool.getconn()
    ///     try:
    ///         cur = conn.cursor()
    ///         cur.execute("select count(*) from jobs")
    ///         return cur.fetchone()[0]
    ///     finally:
    ///         pool.putconn(conn)
    /// ```
    ///
    /// ## Known limitations
    /// Every call is assumed to be able to raise, including logging calls; a handler naming
    /// specific exception types is assumed to let others through. `except Exception:` is
    /// treated as catching everything (`KeyboardInterrupt` and `SystemExit` are not considered).
    pub struct ConnectionLeakedOnException {
        code: "CL002",
        name: "connection-leaked-on-exception",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for ConnectionLeakedOnException {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        for acq in &function.acquisitions {
            // Ex) a wrapper whose `__del__` gives it back at garbage collection: CL003.
            if acq.finalizer.is_some() {
                continue;
            }
            // Ex) leaked on a normal path too: CL001 (or CL008) reports it.
            if !acq.leaks.is_empty() || !acq.reacquired.is_empty() {
                continue;
            }
            // Ex) released in `finally:` or by `with`.
            if acq.exception_leaks.is_empty() {
                continue;
            }
            // The first call after the acquisition that can raise with the connection held.
            let raising = acq
                .exception_leaks
                .iter()
                .filter(|l| l.at.start >= acq.span.end)
                .min_by_key(|l| l.at.start)
                .or_else(|| acq.exception_leaks.iter().min_by_key(|l| l.at.start));
            let mut finding = Finding::new(
                &Self::META,
                acq.span,
                function,
                format!("{} is not released if an exception is raised", origin(acq)),
            );
            finding.primary_label = primary_label(acq);
            if let Some(leak) = raising {
                finding = finding.label(leak.at, "if this raises, the release is skipped");
            }
            finding.help = "put the release in a `finally:` block that starts right after the acquisition, or use `with`".into();
            findings.push(finding);
        }
    }
}
