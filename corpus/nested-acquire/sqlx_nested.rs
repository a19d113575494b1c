// A second connection from the same sqlx pool while a connection or transaction is still held:
// directly, with the pool as executor, through a helper that takes `&PgPool`, and through a
// method that acquires from its `self.pool` field.
// confirm: sqlx-postgres
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

async fn count_users(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(pool)
        .await
}

pub async fn audit_inside_transaction(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("update users set seen = now() where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("insert into audit (user_id) values ($1)")
        .bind(id)
        // expect: CL007
        .execute(pool)
        .await?;
    tx.commit().await
}

pub async fn helper_while_held(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query("set local statement_timeout = 1000")
        .execute(&mut *conn)
        .await?;
    let n = count_users(pool).await?; // expect: CL007
    Ok(n)
}

pub async fn shadowing_does_not_drop(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    let conn = pool.acquire().await?; // expect: CL007
    drop(conn);
    Ok(())
}

pub async fn reacquire_in_loop(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    for _ in 0..3 {
        sqlx::query("select 1").execute(&mut *conn).await?;
        conn = pool.acquire().await?; // expect: CL007
    }
    Ok(())
}

pub struct Repo {
    pool: PgPool,
}

impl Repo {
    async fn total(&self) -> Result<i64, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query_scalar("select count(*) from users")
            .fetch_one(&mut *conn)
            .await
    }

    pub async fn report(&self) -> Result<i64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("lock table users").execute(&mut *tx).await?;
        let n = self.total().await?; // expect: CL007
        tx.commit().await?;
        Ok(n)
    }

    // Silent: the transaction is committed before the next acquisition.
    pub async fn report_after_commit(&self) -> Result<i64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("lock table users").execute(&mut *tx).await?;
        tx.commit().await?;
        self.total().await
    }
}

// Silent: the connection is passed down instead of the pool.
async fn count_on(conn: &mut PoolConnection<Postgres>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(&mut **conn)
        .await
}

pub async fn pass_the_connection(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    count_on(&mut conn).await
}

// Silent: a scoped block ends the first connection.
pub async fn scoped_block(pool: &PgPool) -> Result<i64, sqlx::Error> {
    {
        let mut conn = pool.acquire().await?;
        sqlx::query("select 1").execute(&mut *conn).await?;
    }
    count_users(pool).await
}

// Silent: explicit drop, and a statement temporary that is gone after its statement.
pub async fn dropped_and_temporary(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let conn = pool.acquire().await?;
    drop(conn);
    sqlx::query("select 1")
        .execute(&mut *pool.acquire().await?)
        .await?;
    count_users(pool).await
}

// Silent: two different pools.
pub async fn two_pools(reads: &PgPool, writes: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = writes.begin().await?;
    let n: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(reads)
        .await?;
    sqlx::query("insert into stats (n) values ($1)")
        .bind(n)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

// Silent: the connection is moved into the returned struct.
pub struct Session {
    pub conn: PoolConnection<Postgres>,
}

pub async fn open_session(pool: &PgPool) -> Result<Session, sqlx::Error> {
    let conn = pool.acquire().await?;
    Ok(Session { conn })
}

// A function of this file that returns a connection from the pool it is given is a factory: the
// session it returns is held.
pub async fn factory_then_acquire(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut session = open_session(pool).await?;
    // expect: CL007
    let mut other = pool.acquire().await?;
    sqlx::query("select 1").execute(&mut *session.conn).await?;
    sqlx::query("select 1").execute(&mut *other).await?;
    Ok(())
}
