// Pools of generic types (`PoolOptions::new()`, `r2d2::Pool::builder()`) are counted for the
// database the file's `use` items name: these are MySQL's, 60 + 50 = 110 > 100 connections of
// MySQL, not of PostgreSQL.
// confirm: none
use std::sync::OnceLock;

use r2d2::Pool;
use r2d2_mysql::MySqlConnectionManager;
use sqlx::pool::PoolOptions;
use sqlx::MySql;

static REPORTS: OnceLock<Pool<MySqlConnectionManager>> = OnceLock::new();

pub fn reports(manager: MySqlConnectionManager) -> &'static Pool<MySqlConnectionManager> {
    REPORTS.get_or_init(|| Pool::builder().max_size(50).build(manager).unwrap()) // expect: CL011
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let api = PoolOptions::<MySql>::new() // expect: CL011
        .max_connections(60)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect("mysql://app@db/app")
        .await?;
    drop(api);
    Ok(())
}
