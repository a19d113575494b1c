//! CL003 `release-left-to-finalizer`.

use connlint_analyzer::{ExitKind, FunctionSummary};

use crate::{declare_rule, origin, Finding, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for objects of your project that own a connection and are not closed on some
    /// path, so that only their finalizer (`__del__`, `weakref.finalize`) would give the
    /// connection back; and for a `__del__` that is the only release a connection-owning
    /// class has.
    ///
    /// ## Why is this bad?
    /// A finalizer runs when the garbage collector gets to the object, which is whenever it
    /// likes: later, much later under load, or never for objects caught in reference cycles or
    /// alive at interpreter exit. Until then the connection stays checked out. A server whose
    /// tool functions call `get_db()` and never close the result runs fine in tests and
    /// exhausts its pool within hours in production.
    ///
    /// ## Example
    /// ```python
    /// class Db:
    ///     def __init__(self, pool):
    ///         self.pool = pool
    ///         self.conn = pool.getconn()
    ///
    ///     def close(self):
    ///         self.pool.putconn(self.conn)
    ///
    ///     def __del__(self):
    ///         self.close()
    ///
    /// def count(pool):
    ///     db = Db(pool)
    ///     return db.conn.cursor().execute("select 1")
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// class Db:
    ///     def __init__(self, pool):
    ///         self.pool = pool
    ///         self.conn = pool.getconn()
    ///
    ///     def close(self):
    ///         self.pool.putconn(self.conn)
    ///
    ///     def __del__(self):
    ///         self.close()
    ///
    /// def count(pool):
    ///     db = Db(pool)
    ///     try:
    ///         return db.conn.cursor().execute("select 1")
    ///     finally:
    ///         db.close()
    /// ```
    ///
    /// Better still, give the class `__enter__`/`__exit__` and use `with Db(pool) as db:`; keep
    /// `__del__` only as a fallback.
    ///
    /// ## Known limitations
    /// A class is recognised as owning a connection when it acquires into an attribute of
    /// `self`, or its `__init__` stores a parameter with a connection-like name (`conn`,
    /// `connection`, `session`, `db`, ...), and some method releases that attribute.
    pub struct ReleaseLeftToFinalizer {
        code: "CL003",
        name: "release-left-to-finalizer",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for ReleaseLeftToFinalizer {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, function: &FunctionSummary, findings: &mut Vec<Finding>) {
        if function.finalizer_only {
            let class = function
                .name
                .rsplit_once('.')
                .map_or(function.name.as_str(), |(c, _)| c);
            let mut finding = Finding::new(
                &Self::META,
                function.span,
                function,
                format!("`{class}` gives its connection back only in `__del__`"),
            );
            finding.primary_label =
                "the only release: runs when the garbage collector gets to the object".into();
            finding.help = format!(
                "add a `close()` (and `__enter__`/`__exit__`) that releases it, call it from the code that builds `{class}`, and keep `__del__` only as a fallback"
            ).into();
            findings.push(finding);
        }
        for acq in &function.acquisitions {
            // Ex) a library connection, or a class with no finalizer: CL001/CL002.
            let Some(finalizer) = &acq.finalizer else {
                continue;
            };
            // Ex) closed, or used with `with`, on every path.
            if acq.leaks.is_empty() && acq.exception_leaks.is_empty() && acq.reacquired.is_empty() {
                continue;
            }
            let mut finding = Finding::new(
                &Self::META,
                acq.span,
                function,
                format!(
                    "{} is released only when it is garbage collected",
                    origin(acq)
                ),
            );
            finding.primary_label = format!("obtained here; released only by {finalizer}");
            for leak in &acq.leaks {
                finding = match leak.kind {
                    ExitKind::Return => finding.label(leak.at, "returns here without closing it"),
                    _ => finding.label(leak.at, "the function ends here without closing it"),
                };
            }
            if acq.leaks.is_empty() {
                if let Some(leak) = acq
                    .exception_leaks
                    .iter()
                    .filter(|l| l.at.start >= acq.span.end)
                    .min_by_key(|l| l.at.start)
                {
                    finding = finding.label(leak.at, "if this raises, nothing closes it");
                }
            }
            finding.help =
                "close it in a `finally:` block, or use it with `with` if the class supports it"
                    .into();
            findings.push(finding);
        }
    }
}
