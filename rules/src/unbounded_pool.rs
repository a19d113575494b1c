//! CL004 `unbounded-pool`.

use connlint_analyzer::{FileAnalysis, PoolMax};

use crate::{declare_rule, pool_finding, Finding, Limits, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Checks for connection pools with no upper limit: a "no limit" value
    /// (`max_overflow=-1` or `pool_size=0` in SQLAlchemy, `maxsize=0` in aiopg and aiomysql,
    /// DBUtils `PooledDB` without `maxconnections`), a maximum above the configured ceiling
    /// (`max-pool-size`, 100 by default), or a size read from the environment with nothing
    /// capping it.
    ///
    /// ## Why is this bad?
    /// A pool is the last line of defence of the database's connection slots. Without a limit
    /// a burst of traffic (or a leak) opens connections until the server refuses everyone with
    /// "too many clients already", including the services that did nothing wrong.
    /// `max_overflow=-1` is the classic fix for "QueuePool limit reached" that moves the outage
    /// to the database. A size from the environment is only as safe as the last deploy's
    /// setting.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine("postgresql://app@db/app", pool_size=10, max_overflow=-1)
    /// ```
    ///
    /// Use instead:
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine("postgresql://app@db/app", pool_size=10, max_overflow=5)
    /// ```
    ///
    /// A size from the environment is fine once clamped:
    /// `min(int(os.environ.get("POOL_SIZE", "10")), 20)`.
    ///
    /// ## Configuration
    /// `max-pool-size` (default 100) sets the ceiling. Pools of SQLite engines are not checked.
    ///
    /// ## Known limitations
    /// Sizes that come from a settings object, a function argument or a configuration file
    /// are unknown and not reported. redis-py clients are held to redis-py 8's default of 100
    /// (older versions had no practical limit).
    pub struct UnboundedPool {
        code: "CL004",
        name: "unbounded-pool",
        severity: Error,
        default_enabled: true,
    }
}

impl Rule for UnboundedPool {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_file(&self, analysis: &FileAnalysis, limits: &Limits, findings: &mut Vec<Finding>) {
        // A call to a pool factory: its size and waits are the factory's, reported there.
        for pool in analysis.pools.iter().filter(|p| p.via.is_none()) {
            if pool.database.is_empty() {
                continue;
            }
            let (span, message, label, help) = match &pool.max {
                PoolMax::Unbounded(setting) => (
                    setting.span,
                    format!("{} pool has no connection limit", pool.library),
                    setting.note.clone(),
                    "set a maximum the database can serve for every process that runs this code"
                        .to_string(),
                ),
                PoolMax::Limit { value, how, at } if *value > limits.max_pool_size => (
                    *at,
                    format!(
                        "{} pool may open {value} connections, above the ceiling of {} (`max-pool-size`)",
                        pool.library, limits.max_pool_size
                    ),
                    how.clone(),
                    "lower it, or raise `max-pool-size` if the database really serves that many"
                        .to_string(),
                ),
                PoolMax::FromEnvironment {
                    variable,
                    default,
                    at,
                } => (
                    *at,
                    format!(
                        "{} pool size comes from ${variable} with no upper bound",
                        pool.library
                    ),
                    match default {
                        Some(d) => format!("{d} unless ${variable} says otherwise"),
                        None => format!("whatever ${variable} says"),
                    },
                    format!(
                        "clamp it: `min(int(os.environ.get(\"{variable}\", ...)), LIMIT)`"
                    ),
                ),
                _ => continue,
            };
            findings.push(pool_finding(
                &Self::META,
                pool,
                span,
                message,
                label,
                help.into(),
            ));
        }
    }
}
