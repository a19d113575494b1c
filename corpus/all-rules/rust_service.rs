// An axum-style service module checked with every rule: Rust drops connections at the end of
// their scope, so only the rules for connections held too long (CL006, CL007) and forgotten
// (CL009) apply.
// confirm: none
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

pub struct AppState {
    pub db: PgPool,
    pub http: reqwest::Client,
}

pub async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(Duration::from_secs(3))
        .connect(url)
        .await
}

pub async fn list_users(State(state): State<Arc<AppState>>) -> Result<Vec<String>, sqlx::Error> {
    let mut conn = state.db.acquire().await?;
    let names: Vec<String> = sqlx::query_scalar("select name from users")
        .fetch_all(&mut *conn)
        .await?;
    Ok(names)
}

pub async fn early_return(State(state): State<Arc<AppState>>, id: i64) -> Result<i64, sqlx::Error> {
    let mut conn = state.db.acquire().await?;
    if id < 0 {
        return Ok(0);
    }
    sqlx::query_scalar("select count(*) from orders where user_id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
}

pub async fn enrich(State(state): State<Arc<AppState>>, id: i64) -> Result<(), Box<dyn std::error::Error>> {
    let mut tx = state.db.begin().await?; // expect: CL006
    let profile = state
        .http
        .get(format!("https://profiles.example.com/{id}"))
        .send()
        .await?
        .text()
        .await?;
    sqlx::query("update users set profile = $1 where id = $2")
        .bind(profile)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let total: i64 = sqlx::query_scalar("select count(*) from users")
        // expect: CL007
        .fetch_one(&state.db)
        .await?;
    tx.commit().await?;
    println!("{total}");
    Ok(())
}

pub async fn keep_forever(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    std::mem::forget(conn); // expect: CL009
    Ok(())
}
