//! CL011 `connection-budget-exceeded`.

use std::collections::BTreeMap;
use std::sync::Arc;

use connlint_analyzer::{PoolConstruction, PoolMax};

use crate::{declare_rule, pool_finding, Finding, Label, Limits, ProjectFile, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Adds up, across every file of the run, the connections all pools of one database
    /// server may open: each pool's maximum, times how many times it is built (once, or the
    /// multiplicity declared for it), times the number of processes, and compares the sum with
    /// the server's `max-connections`. When the sum is larger, every pool that contributes is
    /// reported, with the whole sum in the message.
    ///
    /// ## Why is this bad?
    /// Each team sizes its pool on its own, and every pool looks reasonable. Ten servers with a
    /// pool of 20 are 200 connections against a proxy that allows 200 while they are all idle;
    /// five projects with a pool of 10 each in four worker processes are 200 more. PostgreSQL
    /// then refuses new connections ("too many clients already") to everyone.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine("postgresql://app@db/app", pool_size=80, max_overflow=40)
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine("postgresql://app@db/app", pool_size=20, max_overflow=10)
    /// ```
    ///
    /// ## Configuration
    /// ```toml
    /// [budget]
    /// max-connections = 100   # the server's max_connections minus what admins keep
    /// processes = 4           # worker processes (or servers x workers) running this code
    ///
    /// [budget.multiplicity]   # pools built more than once per process
    /// "app/db.py:pool_for" = 5   # `path:function` or `path:variable`; 5 projects
    /// ```
    /// Pools built per call or per key without a declared multiplicity count once, so the
    /// sum is a lower bound. Pools with no limit or an unknown size are left out (CL004
    /// reports the first); a size from the environment counts with its default. Pools are
    /// added up per database server kind (PostgreSQL, MySQL); SQLite and Redis are not counted.
    /// SQLAlchemy engines whose URL is not a literal count as PostgreSQL.
    ///
    /// ## Known limitations
    /// Every file of one run is one budget: checking unrelated services together adds up pools
    /// that never share a server. Pools of unknown size are left out, so the sum can be low.
    pub struct ConnectionBudgetExceeded {
        code: "CL011",
        name: "connection-budget-exceeded",
        severity: Error,
        default_enabled: true,
    }
}

/// One pool's share of the budget.
struct Term<'a> {
    file: usize,
    path: &'a str,
    pool: &'a PoolConstruction,
    max: u64,
    copies: u64,
    /// The copies are a lower bound (built per call or per key, nothing declared).
    at_least: bool,
}

/// How many pools a finding names in its sum; the others are added up as one number.
const SHOWN_TERMS: usize = 8;

impl Rule for ConnectionBudgetExceeded {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_project(&self, files: &[ProjectFile], limits: &Limits, findings: &mut [Vec<Finding>]) {
        let mut by_database: BTreeMap<&str, Vec<Term>> = BTreeMap::new();
        for (file, f) in files.iter().enumerate() {
            for pool in &f.analysis.pools {
                // A factory's pool is counted once, at the factory.
                if matches!(pool.database.as_str(), "" | "Redis") || pool.via.is_some() {
                    continue;
                }
                let max = match &pool.max {
                    PoolMax::Limit { value, .. } => *value,
                    PoolMax::FromEnvironment {
                        default: Some(d), ..
                    } => *d,
                    _ => continue,
                };
                let declared = limits.multiplicity_of(f.path, pool);
                by_database.entry(&pool.database).or_default().push(Term {
                    file,
                    path: f.path,
                    pool,
                    max,
                    copies: declared.unwrap_or(1),
                    at_least: declared.is_none() && pool.placement.repeats(),
                });
            }
        }
        for (database, mut terms) in by_database {
            // In the order of the paths, not of the files as given: ties in the sum (and the
            // sum itself, for a few pools) read the same whichever order the caller had.
            terms.sort_by_key(|t| (t.path, t.pool.span.start, t.pool.span.end, t.file));
            let per_process: u64 = terms
                .iter()
                .map(|t| t.max.saturating_mul(t.copies))
                .fold(0, u64::saturating_add);
            let total = per_process.saturating_mul(limits.processes.max(1));
            if total <= limits.max_connections {
                continue;
            }
            let bound = if terms.iter().any(|t| t.at_least) {
                "at least "
            } else {
                ""
            };
            // The largest contributions by name; a long tail is summed up (a monorepo can have
            // thousands of pools, and every one of them gets this message).
            let mut shown: Vec<&Term> = terms.iter().collect();
            if shown.len() > SHOWN_TERMS {
                shown.sort_by_key(|t| std::cmp::Reverse(t.max.saturating_mul(t.copies)));
            }
            let rest = shown.split_off(shown.len().min(SHOWN_TERMS));
            let rest_sum: u64 = rest
                .iter()
                .map(|t| t.max.saturating_mul(t.copies))
                .fold(0, u64::saturating_add);
            let tail = |shown: String| match rest.len() {
                0 => shown,
                n => format!("{shown} + {rest_sum} from {n} more pools"),
            };
            let sum = tail(
                shown
                    .iter()
                    .map(|t| match t.copies {
                        1 => t.max.to_string(),
                        n => format!("{n} x {}", t.max),
                    })
                    .collect::<Vec<_>>()
                    .join(" + "),
            );
            let processes = match limits.processes {
                0 | 1 => format!("({sum})"),
                n => format!("{n} processes x ({sum})"),
            };
            let message = format!(
                "{database} pools may open {bound}{total} connections, above max-connections = {}: {processes}",
                limits.max_connections
            );
            let parts = shown
                .iter()
                .map(|t| {
                    let name = t.pool.binding.as_deref().unwrap_or(&t.pool.function);
                    let place = if t.path.is_empty() {
                        String::new()
                    } else {
                        format!(" in {}", t.path)
                    };
                    let copies = match (t.copies, t.at_least) {
                        (1, true) => " (built per call or key: counted once)".to_string(),
                        (1, false) => String::new(),
                        (n, _) => format!(" x {n} copies"),
                    };
                    format!("{} from `{name}`{place}{copies}", t.max)
                })
                .collect::<Vec<_>>()
                .join("; ");
            let parts = tail(parts);
            // One text for every finding of the sum (a dense tree has 12,000 of them).
            let help: Arc<str> = format!(
                "the sum: {parts}. Shrink the pools, share one, or put a pooler (PgBouncer) in \
                 front; if the numbers are wrong, set [budget] in the configuration"
            )
            .into();
            // The terms of each file, in the terms' order: a file's findings name its other
            // pools (grouped first: a dense tree has thousands of pools in one sum).
            let mut of_file: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, term) in terms.iter().enumerate() {
                of_file.entry(term.file).or_default().push(i);
            }
            for (i, term) in terms.iter().enumerate() {
                let mut finding = pool_finding(
                    &Self::META,
                    term.pool,
                    term.pool.span,
                    message.clone(),
                    format!("up to {} connections", term.max),
                    help.clone(),
                );
                for &j in of_file.get(&term.file).map_or(&[][..], Vec::as_slice) {
                    if j != i {
                        let other = &terms[j];
                        finding.labels.push(Label {
                            span: other.pool.span,
                            message: format!("also counted: up to {} connections", other.max),
                        });
                    }
                }
                findings[term.file].push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use connlint_analyzer::{Declarations, Language, SourceFile};

    use crate::{check_project, Selection};

    #[test]
    fn the_findings_of_one_sum_share_one_help_text() {
        // A dense tree gives every pool of the sum a finding with the same long help: one
        // text, not a copy per finding.
        let text = "from psycopg2.pool import ThreadedConnectionPool\n\
                    POOL = ThreadedConnectionPool(1, 90, dsn='')\n";
        let files = [
            SourceFile { path: "a.py", text },
            SourceFile { path: "b.py", text },
        ];
        let checked = check_project(
            Language::Python,
            &files,
            &Declarations::default(),
            &Selection::default(),
        );
        let helps: Vec<&Arc<str>> = checked
            .iter()
            .flat_map(|c| &c.findings)
            .filter(|f| f.code == "CL011")
            .map(|f| &f.help)
            .collect();
        assert_eq!(helps.len(), 2, "one finding per pool of the sum");
        assert!(helps[0].starts_with("the sum: "), "{}", helps[0]);
        assert!(Arc::ptr_eq(helps[0], helps[1]));
    }
}
