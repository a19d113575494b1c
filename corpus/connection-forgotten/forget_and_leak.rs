// Pooled connections that never go back to their pool: forgotten, leaked into a static
// reference, or leaked with sqlx's `PoolConnection::leak()`; and the deliberate take-outs
// (`detach()`, deadpool `Object::take`) that are not findings.
// confirm: none
use std::mem::ManuallyDrop;

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use sqlx::{SqliteConnection, SqlitePool};

pub fn forget_after_use(pool: &Pool<SqliteConnectionManager>) -> rusqlite::Result<i64> {
    let conn = pool.get().expect("pool");
    let n: i64 = conn.query_row("select 1", [], |r| r.get(0))?;
    std::mem::forget(conn); // expect: CL009
    Ok(n)
}

pub fn manually_dropped(
    pool: &Pool<SqliteConnectionManager>,
) -> ManuallyDrop<PooledConnection<SqliteConnectionManager>> {
    let conn = pool.get().expect("pool");
    ManuallyDrop::new(conn) // expect: CL009
}

pub fn leaked_box(pool: &Pool<SqliteConnectionManager>) -> &'static mut rusqlite::Connection {
    let conn = pool.get().expect("pool");
    let leaked = Box::leak(Box::new(conn)); // expect: CL009
    &mut **leaked
}

pub async fn sqlx_leak(pool: &SqlitePool) -> Result<SqliteConnection, sqlx::Error> {
    let conn = pool.acquire().await?;
    Ok(conn.leak()) // expect: CL009
}

pub fn forget_temporary(pool: &Pool<SqliteConnectionManager>) {
    std::mem::forget(pool.get().expect("pool")); // expect: CL009
}

// Silent: a dedicated LISTEN connection taken out of the pool on purpose.
pub async fn sqlx_detach(pool: &SqlitePool) -> Result<SqliteConnection, sqlx::Error> {
    let conn = pool.acquire().await?;
    Ok(conn.detach())
}

// Silent: deadpool's documented permanent take-out.
pub async fn deadpool_take(
    pool: &deadpool_postgres::Pool,
) -> Result<deadpool_postgres::ClientWrapper, deadpool_postgres::PoolError> {
    let client = pool.get().await?;
    Ok(deadpool_postgres::Object::take(client))
}

// Silent: dropped explicitly, and something unrelated forgotten.
pub fn dropped(pool: &Pool<SqliteConnectionManager>) -> rusqlite::Result<i64> {
    let conn = pool.get().expect("pool");
    let n: i64 = conn.query_row("select 1", [], |r| r.get(0))?;
    drop(conn);
    let scratch = vec![0u8; 16];
    std::mem::forget(scratch);
    Ok(n)
}

// Silent: the connection goes back when it drops at the end of the function.
pub fn plain_drop(pool: &Pool<SqliteConnectionManager>) -> rusqlite::Result<usize> {
    let conn = pool.get().expect("pool");
    conn.execute("create table if not exists t (x integer)", [])
}
