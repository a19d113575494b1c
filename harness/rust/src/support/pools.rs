//! The runtimes: how each real pool is built for one run, and what its own statistics say.
//!
//! | runtime | pool | statistics (open, idle) | acquire timeouts seen by |
//! |---|---|---|---|
//! | `sqlx-postgres` | `sqlx::PgPool` | `size()`, `num_idle()` | the error's text |
//! | `sqlx-sqlite` | `sqlx::SqlitePool` | `size()`, `num_idle()` | the error's text |
//! | `r2d2-sqlite` | `r2d2::Pool<SqliteConnectionManager>` | `state()` | an event handler |
//! | `deadpool-postgres` | `deadpool_postgres::Pool` | `status()` (`size`, `available`) | the error's text |
//! | `bb8-postgres` | `bb8::Pool<PostgresConnectionManager<NoTls>>` | `state()` | `statistics.get_timed_out` |

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bb8_postgres::PostgresConnectionManager;
use r2d2_sqlite::SqliteConnectionManager;
use tokio_postgres::NoTls;

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One run's pool.
pub struct PoolSpec {
    pub max: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL `application_name` of every connection of the pool.
    pub app: String,
    /// A fresh SQLite file for SQLite runtimes.
    pub sqlite_file: PathBuf,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Connections the pool has open (checked out or idle).
    pub open: u32,
    pub idle: u32,
    /// Acquire timeouts the pool itself counted (r2d2, bb8), since it was built.
    pub timeouts: u64,
}

impl Stats {
    pub fn checked_out(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

/// Where the pools connect: the fault-injecting proxy in front of the throwaway server.
#[derive(Clone)]
pub struct PgTarget {
    pub socket_dir: PathBuf,
    pub port: u16,
    pub user: String,
    pub dbname: String,
}

impl PgTarget {
    pub fn tokio_config(&self, app: &str) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host_path(&self.socket_dir)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(app);
        c
    }
}

pub trait Runtime {
    type Pool: Clone + Send + Sync + 'static;
    fn build<'a>(&'a self, spec: &'a PoolSpec) -> BoxFut<'a, Result<Self::Pool, String>>;
    fn stats(&self, pool: &Self::Pool) -> Stats;
    /// How the library's acquire-timeout error reads (Display and Debug), for the runtimes
    /// whose pool does not count timeouts.
    fn timeout_texts(&self) -> &'static [&'static str] {
        &[]
    }
    fn is_postgres(&self) -> bool;
}

pub struct SqlxPg(pub PgTarget);

impl Runtime for SqlxPg {
    type Pool = sqlx::PgPool;
    fn build<'a>(&'a self, spec: &'a PoolSpec) -> BoxFut<'a, Result<Self::Pool, String>> {
        Box::pin(async move {
            let options = sqlx::postgres::PgConnectOptions::new()
                .socket(&self.0.socket_dir)
                .port(self.0.port)
                .username(&self.0.user)
                .database(&self.0.dbname)
                .application_name(&spec.app);
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(spec.max)
                .min_connections(1)
                .acquire_timeout(spec.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(|e| format!("sqlx PgPool: {e}"))
        })
    }
    fn stats(&self, pool: &Self::Pool) -> Stats {
        Stats {
            open: pool.size(),
            idle: pool.num_idle() as u32,
            timeouts: 0,
        }
    }
    fn timeout_texts(&self) -> &'static [&'static str] {
        &[
            "pool timed out while waiting for an open connection",
            "PoolTimedOut",
        ]
    }
    fn is_postgres(&self) -> bool {
        true
    }
}

pub struct SqlxSqlite;

impl Runtime for SqlxSqlite {
    type Pool = sqlx::SqlitePool;
    fn build<'a>(&'a self, spec: &'a PoolSpec) -> BoxFut<'a, Result<Self::Pool, String>> {
        Box::pin(async move {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&spec.sqlite_file)
                .create_if_missing(true);
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(spec.max)
                .min_connections(1)
                .acquire_timeout(spec.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(|e| format!("sqlx SqlitePool: {e}"))
        })
    }
    fn stats(&self, pool: &Self::Pool) -> Stats {
        Stats {
            open: pool.size(),
            idle: pool.num_idle() as u32,
            timeouts: 0,
        }
    }
    fn timeout_texts(&self) -> &'static [&'static str] {
        &[
            "pool timed out while waiting for an open connection",
            "PoolTimedOut",
        ]
    }
    fn is_postgres(&self) -> bool {
        false
    }
}

/// Counts r2d2's timeout events.
#[derive(Debug)]
struct TimeoutCounter(Arc<AtomicU64>);

impl r2d2::HandleEvent for TimeoutCounter {
    fn handle_timeout(&self, _event: r2d2::event::TimeoutEvent) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
pub struct R2d2Sqlite {
    timeouts: Arc<AtomicU64>,
}

impl Runtime for R2d2Sqlite {
    type Pool = r2d2::Pool<SqliteConnectionManager>;
    fn build<'a>(&'a self, spec: &'a PoolSpec) -> BoxFut<'a, Result<Self::Pool, String>> {
        Box::pin(async move {
            self.timeouts.store(0, Ordering::SeqCst);
            let manager = SqliteConnectionManager::file(&spec.sqlite_file);
            let builder = r2d2::Pool::builder()
                .max_size(spec.max)
                .min_idle(Some(1))
                .connection_timeout(spec.acquire_timeout)
                .event_handler(Box::new(TimeoutCounter(Arc::clone(&self.timeouts))));
            // `build` blocks until `min_idle` connections exist.
            tokio::task::spawn_blocking(move || builder.build(manager))
                .await
                .map_err(|e| format!("r2d2 build: {e}"))?
                .map_err(|e| format!("r2d2 build: {e}"))
        })
    }
    fn stats(&self, pool: &Self::Pool) -> Stats {
        let s = pool.state();
        Stats {
            open: s.connections,
            idle: s.idle_connections,
            timeouts: self.timeouts.load(Ordering::SeqCst),
        }
    }
    fn is_postgres(&self) -> bool {
        false
    }
}

pub struct DeadpoolPg(pub PgTarget);

impl Runtime for DeadpoolPg {
    type Pool = deadpool_postgres::Pool;
    fn build<'a>(&'a self, spec: &'a PoolSpec) -> BoxFut<'a, Result<Self::Pool, String>> {
        Box::pin(async move {
            let manager = deadpool_postgres::Manager::from_config(
                self.0.tokio_config(&spec.app),
                NoTls,
                deadpool_postgres::ManagerConfig {
                    recycling_method: deadpool_postgres::RecyclingMethod::Fast,
                },
            );
            deadpool_postgres::Pool::builder(manager)
                .max_size(spec.max as usize)
                .wait_timeout(Some(spec.acquire_timeout))
                .create_timeout(Some(Duration::from_secs(10)))
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
                .map_err(|e| format!("deadpool-postgres: {e}"))
        })
    }
    fn stats(&self, pool: &Self::Pool) -> Stats {
        let s = pool.status();
        Stats {
            open: s.size as u32,
            idle: s.available as u32,
            timeouts: 0,
        }
    }
    fn timeout_texts(&self) -> &'static [&'static str] {
        &[
            "Timeout occurred while waiting for a slot to become available",
            "Timeout(Wait)",
        ]
    }
    fn is_postgres(&self) -> bool {
        true
    }
}

pub type Bb8PgPool = bb8::Pool<PostgresConnectionManager<NoTls>>;

pub struct Bb8Pg(pub PgTarget);

impl Runtime for Bb8Pg {
    type Pool = Bb8PgPool;
    fn build<'a>(&'a self, spec: &'a PoolSpec) -> BoxFut<'a, Result<Self::Pool, String>> {
        Box::pin(async move {
            let manager = PostgresConnectionManager::new(self.0.tokio_config(&spec.app), NoTls);
            bb8::Pool::builder()
                .max_size(spec.max)
                .min_idle(Some(1))
                .connection_timeout(spec.acquire_timeout)
                .build(manager)
                .await
                .map_err(|e| format!("bb8-postgres: {e}"))
        })
    }
    fn stats(&self, pool: &Self::Pool) -> Stats {
        let s = pool.state();
        Stats {
            open: s.connections,
            idle: s.idle_connections,
            timeouts: s.statistics.get_timed_out,
        }
    }
    fn is_postgres(&self) -> bool {
        true
    }
}
