// Two bb8 connections from one pool held at once.
// confirm: bb8-postgres
use std::error::Error;

use bb8::Pool;
use bb8_postgres::PostgresConnectionManager;
use tokio_postgres::NoTls;

type PgPool = Pool<PostgresConnectionManager<NoTls>>;

pub async fn copy_name(pool: &PgPool) -> Result<(), Box<dyn Error>> {
    let reader = pool.get().await?;
    let writer = pool.get().await?; // expect: CL007
    let row = reader.query_one("select name from users where id = 1", &[]).await?;
    let name: String = row.get(0);
    writer
        .execute("insert into audit (user_id, what) values (1, $1)", &[&name])
        .await?;
    Ok(())
}

// Silent: one connection does both statements.
pub async fn copy_name_on_one(pool: &PgPool) -> Result<(), Box<dyn Error>> {
    let conn = pool.get().await?;
    let row = conn.query_one("select name from users where id = 1", &[]).await?;
    let name: String = row.get(0);
    conn.execute("insert into audit (user_id, what) values (1, $1)", &[&name])
        .await?;
    Ok(())
}
