// sqlx connections taken out of the pool: `leak()` and `mem::forget` keep the pool's slot for
// good; `detach()` gives the slot back and hands the connection to the caller.
// confirm: sqlx-sqlite
use sqlx::{SqliteConnection, SqlitePool};

pub async fn listener_connection(pool: &SqlitePool) -> Result<SqliteConnection, sqlx::Error> {
    let conn = pool.acquire().await?;
    Ok(conn.leak()) // expect: CL009
}

pub async fn forget_after_query(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let n: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&mut *conn)
        .await?;
    std::mem::forget(conn); // expect: CL009
    Ok(n)
}

// Silent: a dedicated connection taken out of the pool on purpose.
pub async fn dedicated_connection(pool: &SqlitePool) -> Result<SqliteConnection, sqlx::Error> {
    let conn = pool.acquire().await?;
    Ok(conn.detach())
}

// Silent: the transaction is committed, and the connection goes back.
pub async fn touch(pool: &SqlitePool, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("update users set seen = datetime('now') where id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
