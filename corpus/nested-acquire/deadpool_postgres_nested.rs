// A second deadpool object from the same pool while the first is still held.
// confirm: deadpool-postgres
use std::error::Error;

use deadpool_postgres::Pool;

async fn user_count(pool: &Pool) -> Result<i64, Box<dyn Error>> {
    let client = pool.get().await?;
    let row = client.query_one("select count(*) from users", &[]).await?;
    Ok(row.get(0))
}

pub async fn prepare_then_query_elsewhere(pool: &Pool) -> Result<(), Box<dyn Error>> {
    let client = pool.get().await?;
    let stmt = client.prepare("select name from users where id = $1").await?;
    let other = pool.get().await?; // expect: CL007
    other.query(&stmt, &[&1i64]).await?;
    Ok(())
}

pub async fn count_inside_transaction(pool: &Pool) -> Result<i64, Box<dyn Error>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("insert into audit (user_id, what) values (1, 'count')", &[])
        .await?;
    let n = user_count(pool).await?; // expect: CL007
    tx.commit().await?;
    Ok(n)
}

// Silent: the first object is dropped before the second checkout.
pub async fn one_after_the_other(pool: &Pool) -> Result<i64, Box<dyn Error>> {
    let client = pool.get().await?;
    client.execute("update users set seen = now() where id = 1", &[]).await?;
    drop(client);
    user_count(pool).await
}

// Silent: the transaction is committed in its own block first.
pub async fn commit_then_count(pool: &Pool) -> Result<i64, Box<dyn Error>> {
    {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("insert into audit (user_id, what) values (2, 'count')", &[])
            .await?;
        tx.commit().await?;
    }
    user_count(pool).await
}
