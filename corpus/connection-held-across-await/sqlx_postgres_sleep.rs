// A checked-out connection or open transaction kept across a wait that does not use it: on a
// small pool every other request queues behind the wait.
// confirm: sqlx-postgres
use std::time::Duration;

use sqlx::PgPool;

pub async fn throttled_update(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?; // expect: CL006
    sqlx::query("update users set seen = now() where id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("select 1").execute(&mut *conn).await?;
    Ok(())
}

pub async fn backoff_in_transaction(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?; // expect: CL006
    sqlx::query("insert into audit (user_id, what) values ($1, 'retry')")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    tx.commit().await
}

// Silent: the connection is dropped before the wait.
pub async fn release_then_wait(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let n: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&mut *conn)
        .await?;
    drop(conn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(n)
}

// Silent: the transaction ends before the wait.
pub async fn commit_then_wait(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("insert into audit (user_id, what) values ($1, 'done')")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

// Silent: the pool as executor checks a connection out per statement only.
pub async fn poll_with_pool(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("select 1").execute(pool).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("select 2").execute(pool).await?;
    Ok(())
}
