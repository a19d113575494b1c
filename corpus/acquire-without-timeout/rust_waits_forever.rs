// Rust pools whose get() can wait forever when every connection is out.
// confirm: none
use std::time::Duration;

use deadpool_postgres::{Manager, Pool, Runtime};

pub fn deadpool_default(manager: Manager) -> Pool {
    Pool::builder(manager).max_size(16).build().unwrap() // expect: CL010
}

pub fn deadpool_bounded(manager: Manager) -> Pool {
    Pool::builder(manager)
        .max_size(16)
        .wait_timeout(Some(Duration::from_secs(5)))
        .runtime(Runtime::Tokio1)
        .build()
        .unwrap()
}

pub fn mobc_forever(manager: mobc_postgres::PgConnectionManager<tokio_postgres::NoTls>) -> mobc::Pool<mobc_postgres::PgConnectionManager<tokio_postgres::NoTls>> {
    mobc::Pool::builder().max_open(10).get_timeout(None).build(manager) // expect: CL010
}

// sqlx, bb8 and r2d2 give up after 30 seconds by default.
pub async fn sqlx_default(url: &str) -> sqlx::Result<sqlx::PgPool> {
    sqlx::postgres::PgPoolOptions::new().max_connections(5).connect(url).await
}

pub async fn bb8_default(manager: bb8_postgres::PostgresConnectionManager<tokio_postgres::NoTls>) -> bb8::Pool<bb8_postgres::PostgresConnectionManager<tokio_postgres::NoTls>> {
    bb8::Pool::builder().max_size(5).build(manager).await.unwrap()
}
