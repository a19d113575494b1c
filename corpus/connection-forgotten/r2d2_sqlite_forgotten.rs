// r2d2 connections that never go back to their pool, and the shapes that give them back.
// confirm: r2d2-sqlite
use std::mem::ManuallyDrop;

use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;

pub fn count_then_forget(pool: &Pool<SqliteConnectionManager>) -> rusqlite::Result<i64> {
    let conn = pool.get().expect("pool");
    let n: i64 = conn.query_row("select count(*) from users", [], |r| r.get(0))?;
    std::mem::forget(conn); // expect: CL009
    Ok(n)
}

pub fn keep_out_of_pool(
    pool: &Pool<SqliteConnectionManager>,
) -> ManuallyDrop<PooledConnection<SqliteConnectionManager>> {
    let conn = pool.get().expect("pool");
    ManuallyDrop::new(conn) // expect: CL009
}

pub fn static_connection(pool: &Pool<SqliteConnectionManager>) -> &'static mut rusqlite::Connection {
    let conn = pool.get().expect("pool");
    let leaked = Box::leak(Box::new(conn)); // expect: CL009
    &mut **leaked
}

pub fn forget_checkout(pool: &Pool<SqliteConnectionManager>) {
    std::mem::forget(pool.get().expect("pool")); // expect: CL009
}

// Silent: dropped explicitly; what is forgotten is not a connection.
pub fn drop_then_forget_buffer(pool: &Pool<SqliteConnectionManager>) -> rusqlite::Result<String> {
    let conn = pool.get().expect("pool");
    let name: String = conn.query_row("select name from users where id = 1", [], |r| r.get(0))?;
    drop(conn);
    let buffer = vec![0u8; 64];
    std::mem::forget(buffer);
    Ok(name)
}

// Silent: the `?` on the query returns early, and the connection still drops.
pub fn rename(pool: &Pool<SqliteConnectionManager>, id: i64) -> rusqlite::Result<usize> {
    let conn = pool.get().expect("pool");
    conn.execute("update users set name = upper(name) where id = ?1", [id])?;
    conn.execute("insert into audit (user_id, what) values (?1, 'rename')", [id])
}
