// Handlers that call the data layer of another module while a transaction is open: the helper
// checks out a second connection from the same pool (CL007 across files).
// confirm: none
mod db;

use sqlx::PgPool;

use crate::db::count_users;

pub async fn audit(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("insert into audit (what) values ('count')")
        .execute(&mut *tx)
        .await?;
    let n = count_users(pool).await?; // expect: CL007
    tx.commit().await?;
    Ok(n)
}

pub async fn rename_twice(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("lock table users").execute(&mut *tx).await?;
    db::Users::rename(pool, 1, "a").await?; // expect: CL007
    tx.commit().await
}

// Silent: the transaction is committed before the helper runs.
pub async fn audit_after(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("insert into audit (what) values ('count')")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    count_users(pool).await
}

#[tokio::main]
async fn main() -> Result<(), sqlx::Error> {
    let pool = PgPool::connect("postgres://localhost/app").await?;
    audit_after(&pool).await?;
    Ok(())
}
