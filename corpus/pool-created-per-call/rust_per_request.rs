// Rust pools built where they are built again and again: per request, per item of a loop.
// confirm: none
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

static POOL: OnceLock<PgPool> = OnceLock::new();
static LAZY: once_cell::sync::Lazy<PgPool> = once_cell::sync::Lazy::new(|| {
    PgPoolOptions::new().max_connections(5).connect_lazy("postgres://db/app").unwrap()
});

// A handler: every request opens a pool of up to 5 connections and drops it.
pub async fn handler(url: &str, id: i64) -> sqlx::Result<i64> {
    let pool = PgPoolOptions::new().max_connections(5).connect(url).await?; // expect: CL005
    let row: (i64,) = sqlx::query_as("select $1").bind(id).fetch_one(&pool).await?;
    Ok(row.0)
}

pub async fn migrate_all(urls: Vec<String>) {
    for url in urls {
        let pool = bb8::Pool::builder() // expect: CL005
            .max_size(2)
            .build(bb8_postgres::PostgresConnectionManager::new_from_stringlike(url, tokio_postgres::NoTls).unwrap())
            .await
            .unwrap();
        drop(pool);
    }
}

// Built once: a singleton, the start-up path, a factory whose caller keeps the pool.
pub fn shared(url: &str) -> &'static PgPool {
    POOL.get_or_init(|| PgPoolOptions::new().max_connections(5).connect_lazy(url).unwrap())
}

#[tokio::main]
async fn main() -> sqlx::Result<()> {
    let pool = PgPoolOptions::new().max_connections(10).connect("postgres://db/app").await?;
    let other = make_pool("postgres://db/reports").await?;
    drop((pool, other));
    Ok(())
}

pub async fn make_pool(url: &str) -> sqlx::Result<PgPool> {
    PgPoolOptions::new().max_connections(10).connect(url).await
}

// A handler that calls the factory on every request: the factory's pool is built per call, but
// the Rust front end does not follow pool factories to their callers yet.
pub async fn report(url: &str) -> sqlx::Result<()> {
    let pool = make_pool(url).await?; // expect-missing: CL005
    drop(pool);
    Ok(())
}

// A pool per shard, built on the first use of each key.
pub fn shard_pool(pools: &mut HashMap<u32, PgPool>, shard: u32) -> &PgPool {
    pools.entry(shard).or_insert_with(|| {
        PgPoolOptions::new().max_connections(4).connect_lazy("postgres://db/shard").unwrap() // expect: CL005
    })
}

// A pool per tenant, cached: built once per key.
pub async fn tenant_pool(cache: &Mutex<HashMap<String, PgPool>>, tenant: &str) -> PgPool {
    if let Some(pool) = cache.lock().unwrap().get(tenant) {
        return pool.clone();
    }
    let pool = PgPoolOptions::new().max_connections(3).connect_lazy(tenant).unwrap(); // expect: CL005
    cache.lock().unwrap().insert(tenant.to_string(), pool.clone());
    pool
}
