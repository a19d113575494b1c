// Pooled connections kept checked out while the task awaits slow work that does not use them.
// confirm: none
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc;

pub async fn sleep_while_held(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?; // expect: CL006
    sqlx::query("select 1").execute(&mut *conn).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::query("select 2").execute(&mut *conn).await?;
    Ok(())
}

pub async fn http_inside_transaction(
    pool: &PgPool,
    client: &reqwest::Client,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut tx = pool.begin().await?; // expect: CL006
    let body = client.get("https://example.com").send().await?.text().await?;
    sqlx::query("insert into pages (body) values ($1)")
        .bind(body)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn receive_while_held(pool: &PgPool, mut rx: mpsc::Receiver<i64>) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?; // expect: CL006
    while let Some(id) = rx.recv().await {
        sqlx::query("delete from jobs where id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn other_pool_while_held(main: &PgPool, archive: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = main.acquire().await?; // expect: CL006
    let mut old = archive.acquire().await?;
    sqlx::query("select 1").execute(&mut *old).await?;
    sqlx::query("select 1").execute(&mut *conn).await?;
    Ok(())
}

pub async fn subprocess_while_held(pool: &PgPool) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = pool.acquire().await?; // expect: CL006
    let out = tokio::process::Command::new("pg_dump").output().await?;
    sqlx::query("insert into dumps (size) values ($1)")
        .bind(out.stdout.len() as i64)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn spawned_worker(pool: PgPool) {
    let handle = tokio::spawn(async move {
        let mut conn = pool.acquire().await.expect("pool"); // expect: CL006
        loop {
            sqlx::query("select 1").execute(&mut *conn).await.expect("query");
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    handle.await.expect("join");
}

// Silent: dropped before the sleep.
pub async fn drop_before_sleep(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query("select 1").execute(&mut *conn).await?;
    drop(conn);
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

// Silent: the block ends the connection before the HTTP request.
pub async fn scoped_then_http(pool: &PgPool) -> Result<String, Box<dyn std::error::Error>> {
    let n: i64 = {
        let mut conn = pool.acquire().await?;
        sqlx::query_scalar("select count(*) from pages")
            .fetch_one(&mut *conn)
            .await?
    };
    let body = reqwest::get(format!("https://example.com/{n}")).await?.text().await?;
    Ok(body)
}

// Silent: a statement temporary, the pool as executor, and queries on the held connection.
pub async fn temporaries_and_queries(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("select 1")
        .execute(&mut *pool.acquire().await?)
        .await?;
    sqlx::query("select 1").execute(pool).await?;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mut conn = pool.acquire().await?;
    sqlx::query("select 1").execute(&mut *conn).await?;
    sqlx::query("select 2").execute(&mut *conn).await?;
    Ok(())
}

// Silent: the transaction is committed before waiting.
pub async fn commit_then_wait(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("select 1").execute(&mut *tx).await?;
    tx.commit().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}
