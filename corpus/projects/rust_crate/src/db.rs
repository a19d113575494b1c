// The data layer of a small sqlx service: helpers that take the pool and check a connection out.
// confirm: none
use sqlx::PgPool;

pub async fn count_users(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(pool)
        .await
}

pub struct Users;

impl Users {
    pub async fn rename(pool: &PgPool, id: i64, name: &str) -> Result<(), sqlx::Error> {
        let mut conn = pool.acquire().await?;
        sqlx::query("update users set name = $1 where id = $2")
            .bind(name)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
