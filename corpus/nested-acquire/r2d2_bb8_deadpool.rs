// Nested checkouts from r2d2 (diesel), bb8 and deadpool pools.
// confirm: none
use std::error::Error;

use bb8_postgres::PostgresConnectionManager;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use tokio_postgres::NoTls;

type DbPool = Pool<ConnectionManager<PgConnection>>;

fn load_name(pool: &DbPool, id: i32) -> Result<String, Box<dyn Error>> {
    let mut conn = pool.get()?;
    let name = diesel::sql_query("select name from users where id = $1")
        .bind::<diesel::sql_types::Integer, _>(id)
        .execute(&mut conn)?;
    Ok(name.to_string())
}

pub fn rename(pool: &DbPool, id: i32) -> Result<(), Box<dyn Error>> {
    let mut conn = pool.get()?;
    let name = load_name(pool, id)?; // expect: CL007
    diesel::sql_query("update users set name = upper(name)").execute(&mut conn)?;
    println!("{name}");
    Ok(())
}

// Silent: the first connection's scope ends before the helper runs.
pub fn rename_scoped(pool: &DbPool, id: i32) -> Result<(), Box<dyn Error>> {
    {
        let mut conn = pool.get()?;
        diesel::sql_query("update users set name = upper(name)").execute(&mut conn)?;
    }
    let name = load_name(pool, id)?;
    println!("{name}");
    Ok(())
}

pub async fn bb8_two(pool: &bb8::Pool<PostgresConnectionManager<NoTls>>) -> Result<(), Box<dyn Error>> {
    let first = pool.get().await?;
    let second = pool.get().await?; // expect: CL007
    first.execute("select 1", &[]).await?;
    second.execute("select 1", &[]).await?;
    Ok(())
}

pub async fn deadpool_two(pool: &deadpool_postgres::Pool) -> Result<(), Box<dyn Error>> {
    let client = pool.get().await?;
    let stmt = client.prepare("select 1").await?;
    let other = pool.get().await?; // expect: CL007
    other.query(&stmt, &[]).await?;
    Ok(())
}

// Silent: dropped before the second checkout.
pub async fn deadpool_sequential(pool: &deadpool_postgres::Pool) -> Result<(), Box<dyn Error>> {
    let client = pool.get().await?;
    client.execute("select 1", &[]).await?;
    drop(client);
    let other = pool.get().await?;
    other.execute("select 1", &[]).await?;
    Ok(())
}
