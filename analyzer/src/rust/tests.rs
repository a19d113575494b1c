//! Rust front-end tests: inline Rust in, summary dump out (`UPDATE_EXPECT=1 cargo test`).

use expect_test::{expect, Expect};

use crate::{analyze, Language};

fn check(src: &str, expected: Expect) {
    let analysis = analyze(Language::Rust, src);
    expected.assert_eq(&analysis.dump(src));
}

#[test]
fn nested_acquire_direct_and_through_a_callee() {
    check(
        r#"
use sqlx::PgPool;

async fn count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select 1").fetch_one(pool).await.unwrap()
}

async fn transfer(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut other = pool.acquire().await?;
    let n = count(pool).await;
    tx.commit().await?;
    let again = pool.acquire().await?;
    Ok(())
}
"#,
        expect![[r#"
            count: acquires from params [0]
              fetch_one(&pool) line 5
            transfer: acquires from params [0]
              pool.begin() line 9
              pool.acquire() line 10
              pool.acquire() line 13
              nested pool.acquire() line 10 from `pool` while line 9 is held
              nested count() line 11 from `pool` via count while line 9 is held
              nested count() line 11 from `pool` via count while line 10 is held
              nested pool.acquire() line 13 from `pool` while line 10 is held
        "#]],
    );
}

#[test]
fn drops_by_scope_drop_and_statement_end() {
    check(
        r#"
use std::time::Duration;

async fn scoped(pool: sqlx::PgPool) -> Result<(), sqlx::Error> {
    {
        let mut conn = pool.acquire().await?;
        sqlx::query("select 1").execute(&mut *conn).await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let conn = pool.acquire().await?;
    drop(conn);
    tokio::time::sleep(Duration::from_secs(1)).await;
    sqlx::query("select 1").execute(&mut *pool.acquire().await?).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = pool.acquire().await?;
    let held = 5;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(())
}
"#,
        expect![[r#"
            scoped: acquires from params [0]
              pool.acquire() line 6
              pool.acquire() line 10
              pool.acquire() line 13
              pool.acquire() line 15
                held across a sleep at line 17
        "#]],
    );
}

#[test]
fn forgotten_connections() {
    check(
        r#"
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;

fn forget(pool: &Pool<SqliteConnectionManager>) {
    let conn = pool.get().unwrap();
    std::mem::forget(conn);
}

fn leak_box(pool: &Pool<SqliteConnectionManager>) {
    let conn = pool.get().unwrap();
    let _c: &'static mut _ = Box::leak(Box::new(conn));
}

async fn sqlx_leak(pool: &sqlx::SqlitePool) {
    let conn = pool.acquire().await.unwrap();
    let raw = conn.leak();
}

async fn detach(pool: &sqlx::SqlitePool) {
    let conn = pool.acquire().await.unwrap();
    let raw = conn.detach();
}
"#,
        expect![[r#"
            forget: acquires from params [0]
              pool.get() line 6
              forgets pool.get() from line 6 with `mem::forget` at line 7
            leak_box: acquires from params [0]
              pool.get() line 11
              forgets pool.get() from line 11 with `Box::leak` at line 12
            sqlx_leak: acquires from params [0]
              pool.acquire() line 16
              forgets pool.acquire() from line 16 with `leak()` at line 17
            detach: acquires from params [0]
              pool.acquire() line 21
        "#]],
    );
}

#[test]
fn extractors_builders_aliases_and_fields() {
    check(
        r#"
use actix_web::web;
use axum::extract::State;
use deadpool_postgres::Pool;
use sqlx::postgres::PgPoolOptions;

type Db = std::sync::Arc<sqlx::PgPool>;

struct AppState {
    db: sqlx::PgPool,
}

async fn actix(pool: web::Data<sqlx::PgPool>) {
    let a = pool.acquire().await.unwrap();
    let b = pool.get_ref().acquire().await.unwrap();
}

async fn axum_state(State(state): State<std::sync::Arc<AppState>>) {
    let tx = state.db.begin().await.unwrap();
    let c = state.db.acquire().await.unwrap();
}

async fn alias(db: Db) {
    let a = db.acquire().await.unwrap();
    let b = db.acquire().await.unwrap();
}

async fn built() -> Result<(), sqlx::Error> {
    let pool = PgPoolOptions::new().max_connections(5).connect("postgres://").await?;
    let a = pool.acquire().await?;
    let b = pool.acquire().await?;
    Ok(())
}

async fn deadpool_imported(pool: &Pool) {
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
}

fn not_a_pool(map: &std::collections::HashMap<u32, u32>) {
    let a = map.get(&1);
    let b = map.get(&2);
}
"#,
        expect![[r#"
            pool PgPoolOptions::new() line 29 in built: sqlx PostgreSQL, max 5 (`max_connections(5)`), PerCall
            actix: acquires from params [0]
              pool.acquire() line 14
              pool.acquire() line 15
              nested pool.acquire() line 15 from `pool` while line 14 is held
            axum_state
              state.db.begin() line 19
              state.db.acquire() line 20
              nested state.db.acquire() line 20 from `state.db` while line 19 is held
            alias: acquires from params [0]
              db.acquire() line 24
              db.acquire() line 25
              nested db.acquire() line 25 from `db` while line 24 is held
            built
              pool.acquire() line 30
              pool.acquire() line 31
              nested pool.acquire() line 31 from `pool` while line 30 is held
            deadpool_imported: acquires from params [0]
              pool.get() line 36
              pool.get() line 37
              nested pool.get() line 37 from `pool` while line 36 is held
        "#]],
    );
}

#[test]
fn branches_loops_and_bindings() {
    check(
        r#"
use std::time::Duration;

async fn if_let(pool: &sqlx::PgPool) {
    if let Ok(conn) = pool.acquire().await {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn match_arm(pool: &sqlx::PgPool) {
    match pool.acquire().await {
        Ok(conn) => drop(conn),
        Err(e) => return,
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn break_drops(pool: &sqlx::PgPool) {
    loop {
        let conn = pool.acquire().await.unwrap();
        if true {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn let_else(pool: &sqlx::PgPool) {
    let Ok(conn) = pool.acquire().await else {
        return;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn moved_into_callee(pool: &sqlx::PgPool) {
    let conn = pool.acquire().await.unwrap();
    consume(conn);
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn moved_into_closure(pool: &sqlx::PgPool) {
    let conn = pool.acquire().await.unwrap();
    let f = move || conn;
    tokio::time::sleep(Duration::from_secs(1)).await;
}

fn threads(pool: r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>) {
    let worker = std::thread::spawn(move || {
        let a = pool.get().unwrap();
        let b = pool.get().unwrap();
    });
}

async fn block_value(pool: &sqlx::PgPool) {
    let conn = {
        let c = pool.acquire().await.unwrap();
        c
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn macros_are_opaque(pool: &sqlx::PgPool) {
    let conn = pool.acquire().await.unwrap();
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
}
"#,
        expect![[r#"
            if_let: acquires from params [0]
              pool.acquire() line 5
                held across a sleep at line 6
            match_arm: acquires from params [0]
              pool.acquire() line 12
            break_drops: acquires from params [0]
              pool.acquire() line 21
            let_else: acquires from params [0]
              pool.acquire() line 30
                held across a sleep at line 33
            moved_into_callee: acquires from params [0]
              pool.acquire() line 37
            moved_into_closure: acquires from params [0]
              pool.acquire() line 43
            threads::{spawn@49}
              pool.get() line 50
              pool.get() line 51
              nested pool.get() line 51 from `pool` while line 50 is held
            block_value: acquires from params [0]
              pool.acquire() line 57
                held across a sleep at line 60
            macros_are_opaque: acquires from params [0]
              pool.acquire() line 64
        "#]],
    );
}

#[test]
fn syntax_errors_are_problems() {
    check(
        "fn broken( {\n    let x = ;\n}\n",
        expect![[r#"
            problem (line 1): syntax error: unbalanced brackets or an unterminated literal; the file is not analysed
        "#]],
    );
}

#[test]
fn deep_nesting_is_a_problem_not_a_crash() {
    let depth = 5_000;
    let mut src = String::from("fn f() -> i32 {\n    ");
    src.push_str(&"(".repeat(depth));
    src.push('1');
    src.push_str(&")".repeat(depth));
    src.push_str("\n}\n");
    let analysis = analyze(Language::Rust, &src);
    assert_eq!(analysis.problems.len(), 1, "{:?}", analysis.problems);

    // Long chains without brackets nest as deep in the syntax tree.
    for piece in ["!", "-", "&", "*"] {
        let src = format!("fn f() {{ let x = {}y; }}\n", piece.repeat(20_000));
        let analysis = analyze(Language::Rust, &src);
        assert_eq!(
            analysis.problems.len(),
            1,
            "{piece}: {:?}",
            analysis.problems
        );
    }
    let chain = "a + ".repeat(3_000);
    let src = format!("fn f() {{ let x = {chain}a; }}\n");
    let analysis = analyze(Language::Rust, &src);
    assert!(analysis.problems.len() <= 1, "{:?}", analysis.problems);
    let calls = ".m()".repeat(3_000);
    let src = format!("fn f() {{ let x = a{calls}; }}\n");
    let analysis = analyze(Language::Rust, &src);
    assert!(analysis.problems.len() <= 1, "{:?}", analysis.problems);
}

#[test]
fn callee_chains_factories_and_self_fields() {
    check(
        r#"
use sqlx::PgPool;

async fn inner(pool: &PgPool) {
    let c = pool.acquire().await.unwrap();
}

async fn outer(db: &PgPool) {
    inner(db).await;
}

async fn open(pool: &PgPool) -> sqlx::pool::PoolConnection<sqlx::Postgres> {
    pool.acquire().await.unwrap()
}

async fn caller(pool: &PgPool) {
    let mut tx = pool.begin().await.unwrap();
    outer(pool).await;
    tx.commit().await.unwrap();
    let held = open(pool).await;
    let again = pool.acquire().await.unwrap();
}

struct Repo {
    pool: PgPool,
}

impl Repo {
    async fn conn(&self) -> sqlx::pool::PoolConnection<sqlx::Postgres> {
        self.pool.acquire().await.unwrap()
    }

    async fn two(&self) {
        let a = self.conn().await;
        let b = self.conn().await;
    }
}
"#,
        expect![[r#"
            inner: acquires from params [0]
              pool.acquire() line 5
            outer: acquires from params [0]
            open: acquires from params [0]
              pool.acquire() line 13 [returned]
            caller: acquires from params [0]
              pool.begin() line 17
              open() line 20
              pool.acquire() line 21
              nested outer() line 18 from `pool` via outer -> inner while line 17 is held
              nested pool.acquire() line 21 from `pool` while line 20 is held
            Repo::conn: acquires from fields ["pool"]
              self.pool.acquire() line 30 [returned]
            Repo::two: acquires from fields ["pool"]
              self.conn() line 34
              self.conn() line 35
              nested self.conn() line 35 from `self.pool` via Repo::conn while line 34 is held
        "#]],
    );
}

#[test]
fn nesting_just_under_the_limits_does_not_overflow() {
    for (piece, n) in [
        ("!", 7_900),
        ("-", 7_900),
        ("&", 7_900),
        ("a = ", 3_900),
        ("|| ", 3_900),
    ] {
        let src = format!("fn f() {{ let x = {}y; }}\n", piece.repeat(n));
        let analysis = analyze(Language::Rust, &src);
        assert!(
            analysis.problems.len() <= 1,
            "{piece}: {:?}",
            analysis.problems
        );
    }
    let src = format!(
        "fn f() {{ let x = {}1{}; }}\n",
        "(".repeat(250),
        ")".repeat(250)
    );
    let analysis = analyze(Language::Rust, &src);
    assert!(analysis.problems.len() <= 1, "{:?}", analysis.problems);
}

#[test]
fn strings_chars_and_comments_do_not_confuse_the_pre_scan() {
    let mut src = String::from(
        "const Q: &str = r#\"\"\"#;\nconst C: char = '\"';\n/* \" */\nfn g<'a>(x: &'a str) -> &'a str { x }\n",
    );
    for i in 0..3_000 {
        src.push_str(&format!("const S{i}: &str = \"a, b\";\n"));
    }
    src.push_str(
        "async fn h(pool: &sqlx::PgPool) {\n    let a = pool.acquire().await.unwrap();\n    let b = pool.acquire().await.unwrap();\n}\n",
    );
    let analysis = analyze(Language::Rust, &src);
    assert!(analysis.problems.is_empty(), "{:?}", analysis.problems);
    assert_eq!(
        analysis
            .functions
            .iter()
            .map(|f| f.nested_acquires.len())
            .sum::<usize>(),
        1
    );
}

#[test]
fn a_helper_in_another_file_of_the_crate_is_followed() {
    let db = "pub async fn count(pool: &sqlx::PgPool) -> i64 {\n    let mut c = pool.acquire().await.unwrap();\n    1\n}\n";
    let main = "mod db;\nasync fn handler(pool: &sqlx::PgPool) {\n    let tx = pool.begin().await.unwrap();\n    let n = db::count(pool).await;\n}\n";
    let files = [
        crate::SourceFile {
            path: "src/db.rs",
            text: db,
        },
        crate::SourceFile {
            path: "src/main.rs",
            text: main,
        },
    ];
    let results = crate::analyze_project(Language::Rust, &files);
    expect![[r#"
        handler: acquires from params [0]
          pool.begin() line 3
          nested count() line 4 from `pool` via db::count while line 3 is held
    "#]]
    .assert_eq(&results[1].dump(main));
    assert_eq!(
        super::module_of("crates/app/src/api/users.rs"),
        "api::users"
    );
    assert_eq!(super::module_of("src/db/mod.rs"), "db");
    assert_eq!(super::module_of("src/lib.rs"), "");
}

#[test]
fn pools_in_statics() {
    check(
        r#"
use std::sync::{LazyLock, OnceLock};

static POOL: OnceLock<sqlx::PgPool> = OnceLock::new();
static LAZY: LazyLock<r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>> =
    LazyLock::new(|| r2d2::Pool::new(r2d2_sqlite::SqliteConnectionManager::memory()).unwrap());

async fn cell() {
    let a = POOL.get().unwrap().acquire().await.unwrap();
    let b = POOL.get().expect("init").acquire().await.unwrap();
}

fn lazy() {
    let a = LAZY.get().unwrap();
    let b = LAZY.get().unwrap();
}
"#,
        expect![[r#"
            pool r2d2::Pool::new() line 6 in LAZY: r2d2 PostgreSQL, max 10 (`max_size` not set: 10, r2d2's default), Singleton
            cell
              POOL.acquire() line 9
              POOL.acquire() line 10
              nested POOL.acquire() line 10 from `POOL` while line 9 is held
            lazy
              LAZY.get() line 14
              LAZY.get() line 15
              nested LAZY.get() line 15 from `LAZY` while line 14 is held
        "#]],
    );
}

#[test]
fn an_expression_statement_drops_its_value() {
    check(
        r#"
async fn f(pool: &sqlx::PgPool) {
    {
        let c = pool.acquire().await.unwrap();
        c
    };
    let d = pool.acquire().await.unwrap();
}
"#,
        expect![[r#"
            f: acquires from params [0]
              pool.acquire() line 4
              pool.acquire() line 7
        "#]],
    );
}

/// Every Rust file of the corpus, with a nesting past the pre-checks' limits, analysed in place
/// (on a thread with [`crate::ANALYSIS_STACK_BYTES`], as the command line's workers are) and on
/// a thread of its own (from a thread with a small stack, as a language server's may be): the
/// same analysis either way.
#[test]
fn a_file_analysed_in_place_or_on_its_own_thread_is_analysed_alike() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut texts: Vec<String> = crate::files_under(&root, "rs")
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("corpus file"))
        .collect();
    assert!(texts.len() >= 10, "{} Rust corpus files", texts.len());
    texts.push(format!(
        "fn f() {{ {}1{} }}\n",
        "(".repeat(300),
        ")".repeat(300)
    ));
    let texts = std::sync::Arc::new(texts);
    let dumps_on = |stack: usize, in_place: bool| {
        let texts = std::sync::Arc::clone(&texts);
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                assert_eq!(super::analyses_in_place(), in_place, "stack {stack}");
                texts
                    .iter()
                    .map(|t| analyze(Language::Rust, t).dump(t))
                    .collect::<Vec<_>>()
            })
            .expect("thread")
            .join()
            .expect("no panic")
    };
    let in_place = dumps_on(crate::ANALYSIS_STACK_BYTES, true);
    let own_thread = dumps_on(2 * 1024 * 1024, false);
    assert_eq!(in_place, own_thread);
    assert!(
        in_place.last().is_some_and(|d| d.contains("nest")),
        "{:?}",
        in_place.last()
    );
}
