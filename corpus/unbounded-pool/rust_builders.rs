// Rust pool builders with no limit, above the ceiling (max-pool-size, 100 by default), or sized
// from the environment without a cap.
// confirm: none
use std::time::Duration;

use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

const WORKERS: u32 = 4;
const PER_WORKER: u32 = 40;

pub async fn no_limit(url: &str) -> sqlx::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(u32::MAX) // expect: CL004
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
}

pub async fn computed(url: &str) -> sqlx::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(WORKERS * PER_WORKER) // expect: CL004
        .connect(url)
        .await
}

pub async fn at_the_ceiling(url: &str) -> sqlx::Result<PgPool> {
    PgPoolOptions::new().max_connections(100).connect(url).await
}

pub fn from_the_environment(url: &str) -> Pool<ConnectionManager<PgConnection>> {
    let size: u32 = std::env::var("POOL_SIZE").unwrap().parse().unwrap();
    Pool::builder()
        .max_size(size) // expect: CL004
        .build(ConnectionManager::new(url))
        .unwrap()
}

pub fn from_the_environment_capped(url: &str) -> Pool<ConnectionManager<PgConnection>> {
    let size: u32 = std::env::var("POOL_SIZE").unwrap().parse().unwrap();
    Pool::builder()
        .max_size(size.min(32))
        .build(ConnectionManager::new(url))
        .unwrap()
}

pub fn r2d2_default(url: &str) -> Pool<ConnectionManager<PgConnection>> {
    Pool::builder().build(ConnectionManager::new(url)).unwrap()
}

pub async fn mobc_no_limit(manager: mobc_postgres::PgConnectionManager<tokio_postgres::NoTls>) {
    let pool = mobc::Pool::builder().max_open(0).build(manager); // expect: CL004
    drop(pool);
}
