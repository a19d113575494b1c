// Rust gives a pooled connection back when it drops, on every path: `?` on a failing
// statement, an early return, a match on the error. The runtime fails each statement in turn
// to show it.
// confirm: sqlx-postgres
use sqlx::PgPool;

pub async fn rename(pool: &PgPool, id: i64, name: &str) -> Result<u64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let done = sqlx::query("update users set name = $1 where id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("insert into audit (user_id, what) values ($1, 'rename')")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn name_or_default(pool: &PgPool, id: i64) -> String {
    let mut conn = match pool.acquire().await {
        Ok(c) => c,
        Err(_) => return String::from("unknown"),
    };
    match sqlx::query_scalar::<_, String>("select name from users where id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
    {
        Ok(name) => name,
        Err(_) => String::from("unknown"),
    }
}

pub async fn transfer(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("insert into audit (user_id, what) values ($1, 'out')")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if id < 0 {
        return Ok(());
    }
    sqlx::query("insert into audit (user_id, what) values ($1, 'in')")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
