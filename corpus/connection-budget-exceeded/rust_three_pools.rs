// One Rust service with three pools of the same PostgreSQL: 60 + 30 + 20 = 110 > 100.
// confirm: none
use std::sync::OnceLock;

use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqlitePoolOptions;

static REPORTS: OnceLock<Pool<ConnectionManager<PgConnection>>> = OnceLock::new();

pub fn reports(url: &str) -> &'static Pool<ConnectionManager<PgConnection>> {
    REPORTS.get_or_init(|| Pool::builder().max_size(30).build(ConnectionManager::new(url)).unwrap()) // expect: CL011
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api = PgPoolOptions::new().max_connections(60).connect("postgres://app@db/app").await?; // expect: CL011
    let jobs = deadpool_postgres::Pool::builder(manager()) // expect: CL011
        .max_size(20)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .build()?;
    // SQLite's connections are not the server's: not counted.
    let cache = SqlitePoolOptions::new().max_connections(50).connect("sqlite://cache.db").await?;
    drop((api, jobs, cache));
    Ok(())
}

fn manager() -> deadpool_postgres::Manager {
    unimplemented!()
}
