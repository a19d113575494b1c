//! CL001 `connection-not-released`.

use connlint_analyzer::{ExitKind, FunctionSummary, Lost};

use crate::{declare_rule, origin, primary_label, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for connections that reach a normal exit of the function (a `return`, the end
    /// of the body, an overwritten variable) without being released or handed to someone else.
    ///
    /// ## Why is this bad?
    /// A pool has a fixed number of connections. Each one that is never given back shrinks the
    /// pool for good: callers start waiting, then fail with "connection pool exhausted" or an
    /// acquire timeout, and a server that looked healthy for hours stops answering. A direct
    /// connection that is never closed holds a server slot until the garbage collector runs,
    /// which is how services hit "too many clients already".
    ///
    /// ## Example
    /// ```python
    /// def load(pool, key):
    ///     conn = pool.getconn()
    ///     if key is None:
    ///         return None
    ///     row = conn.cursor().execute("select 1")
    ///     pool.putconn(conn)
    ///     return row
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// def load(pool, key):
    ///     conn = pool.getconn()
    ///     try:
    ///         if key is None:
    ///             return None
    ///         return conn.cursor().execute("select 1")
    ///     finally:
    ///         pool.putconn(conn)
    /// ```
    ///
    /// Returning the connection, storing it on `self`, in a global or a container, or passing a
    /// fresh connection straight to a constructor hands it over and is not a finding here.
    ///
    /// ## Known limitations
    /// Calls are followed only to functions in the same file (factories that return a
    /// connection, helpers that release their argument). A connection passed to an unknown
    /// function is assumed to stay with the caller. A pooled psycopg 3 connection closed with
    /// `conn.close()` counts as not returned, which is wrong only for pools built with
    /// `close_returns=True`.
    pub struct ConnectionNotReleased {
        code: "CL001",
        name: "connection-not-released",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for ConnectionNotReleased {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        for acq in &function.acquisitions {
            // Ex) a wrapper whose `__del__` gives it back at garbage collection: CL003.
            if acq.finalizer.is_some() {
                continue;
            }
            // Ex) `with psycopg2.connect() as conn:` left open: CL008 explains it better.
            if acq.context_misuse.is_some() && !acq.leaks.is_empty() {
                continue;
            }
            // Ex) released or handed over on every normal path.
            if acq.leaks.is_empty() && acq.reacquired.is_empty() {
                continue;
            }
            let message = if acq.leaks.is_empty() {
                format!(
                    "{} is taken again while the previous one is still held",
                    origin(acq)
                )
            } else {
                format!("{} is not released on every path", origin(acq))
            };
            let mut finding = Finding::new(&Self::META, acq.span, function, message);
            finding.primary_label = primary_label(acq);
            for leak in &acq.leaks {
                match leak.lost {
                    Some(Lost::Dropped(at)) => {
                        finding =
                            finding.label(at, "used here and then dropped without being released");
                        continue;
                    }
                    Some(Lost::Overwritten(at)) => {
                        finding = finding.label(at, "the only name for it is reassigned here");
                        continue;
                    }
                    None => {}
                }
                finding = match leak.kind {
                    ExitKind::Return => finding.label(leak.at, "returns here with it still held"),
                    _ => finding.label(leak.at, "the function ends here with it still held"),
                };
            }
            if !acq.reacquired.is_empty() {
                finding.primary_label = format!(
                    "{}; when the loop comes back here the previous connection is still held",
                    finding.primary_label
                );
            }
            finding.help = if acq.resource.contains("pool") {
                "give it back in a `finally:` block, or take it with the pool's context manager so every path returns it".into()
            } else {
                "close it in a `finally:` block, or open it with `with contextlib.closing(...)` so every path closes it".into()
            };
            findings.push(finding);
        }
    }
}
