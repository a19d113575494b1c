//! What the Rust pool crates' APIs do, as data: one table per crate.
//!
//! Sourced from `shared/pool-apis.md` (sqlx 0.9.0, r2d2 0.8.10, deadpool 0.13.1 with
//! deadpool-postgres 0.14.2 and deadpool-redis 0.23.1, bb8 0.9.1, mobc 0.9.0, diesel 2.3.14).
//! Every pooled connection of these crates goes back to its pool when it is dropped, so the
//! handles list only the consuming methods that give it back early.

use crate::tables::HandleSpec;

const RAII: &str = "dropping it gives it back";

static SQLX_CONN: HandleSpec = HandleSpec {
    name: "sqlx pooled connection",
    // `close()` consumes it; the permit is returned once the connection is closed.
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: RAII,
};
static SQLX_TX: HandleSpec = HandleSpec {
    name: "sqlx transaction on a pooled connection",
    release_methods: &["commit", "rollback"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: RAII,
};
static R2D2_CONN: HandleSpec = HandleSpec {
    name: "r2d2 pooled connection",
    release_methods: &[],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: RAII,
};
static DEADPOOL_OBJECT: HandleSpec = HandleSpec {
    name: "deadpool pooled object",
    release_methods: &[],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: RAII,
};
static BB8_CONN: HandleSpec = HandleSpec {
    name: "bb8 pooled connection",
    release_methods: &[],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: RAII,
};
static MOBC_CONN: HandleSpec = HandleSpec {
    name: "mobc pooled connection",
    release_methods: &[],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: RAII,
};

/// A method on a pool that checks a connection out.
#[derive(Debug)]
pub(crate) struct RustAcquire {
    pub method: &'static str,
    pub handle: &'static HandleSpec,
}

/// One crate's pool type.
#[derive(Debug)]
pub(crate) struct RustPool {
    /// Type names that are this pool whatever their generic arguments: full paths and the
    /// crate's aliases (`sqlx::PgPool`). Matched against the path as written or imported.
    pub types: &'static [&'static str],
    /// Paths of calls that build a pool (the root of a builder chain).
    pub builders: &'static [&'static str],
    pub acquire: &'static [RustAcquire],
    /// `&Pool` is an executor: `query(..).fetch_one(&pool)` checks a connection out for the
    /// statement and gives it back when the statement is done.
    pub executor_methods: &'static [&'static str],
}

pub(crate) static SQLX: RustPool = RustPool {
    types: &[
        "sqlx::Pool",
        "sqlx::PgPool",
        "sqlx::SqlitePool",
        "sqlx::MySqlPool",
        "sqlx::AnyPool",
        "sqlx::postgres::PgPool",
        "sqlx::sqlite::SqlitePool",
        "sqlx::mysql::MySqlPool",
        "sqlx::any::AnyPool",
        "sqlx::pool::Pool",
        "PgPool",
        "SqlitePool",
        "MySqlPool",
        "AnyPool",
    ],
    builders: &[
        "PgPoolOptions::new",
        "SqlitePoolOptions::new",
        "MySqlPoolOptions::new",
        "AnyPoolOptions::new",
        "PoolOptions::new",
        "PgPool::connect",
        "PgPool::connect_with",
        "PgPool::connect_lazy",
        "PgPool::connect_lazy_with",
        "SqlitePool::connect",
        "SqlitePool::connect_with",
        "SqlitePool::connect_lazy",
        "SqlitePool::connect_lazy_with",
        "MySqlPool::connect",
        "MySqlPool::connect_with",
        "MySqlPool::connect_lazy",
        "MySqlPool::connect_lazy_with",
        "AnyPool::connect",
    ],
    acquire: &[
        RustAcquire {
            method: "acquire",
            handle: &SQLX_CONN,
        },
        RustAcquire {
            method: "try_acquire",
            handle: &SQLX_CONN,
        },
        RustAcquire {
            method: "begin",
            handle: &SQLX_TX,
        },
        RustAcquire {
            method: "try_begin",
            handle: &SQLX_TX,
        },
        RustAcquire {
            method: "begin_with",
            handle: &SQLX_TX,
        },
    ],
    executor_methods: &[
        "execute",
        "execute_many",
        "fetch",
        "fetch_many",
        "fetch_all",
        "fetch_one",
        "fetch_optional",
        "prepare",
        "describe",
    ],
};

pub(crate) static R2D2: RustPool = RustPool {
    types: &[
        "r2d2::Pool",
        "diesel::r2d2::Pool",
        "r2d2_postgres::r2d2::Pool",
    ],
    builders: &["r2d2::Pool::new", "r2d2::Pool::builder"],
    acquire: &[
        RustAcquire {
            method: "get",
            handle: &R2D2_CONN,
        },
        RustAcquire {
            method: "try_get",
            handle: &R2D2_CONN,
        },
        RustAcquire {
            method: "get_timeout",
            handle: &R2D2_CONN,
        },
    ],
    executor_methods: &[],
};

pub(crate) static DEADPOOL: RustPool = RustPool {
    types: &[
        "deadpool_postgres::Pool",
        "deadpool_redis::Pool",
        "deadpool_sqlite::Pool",
        "deadpool::managed::Pool",
        "deadpool::unmanaged::Pool",
    ],
    builders: &[
        "deadpool_postgres::Pool::builder",
        "deadpool_redis::Pool::builder",
        "deadpool::managed::Pool::builder",
        "deadpool::unmanaged::Pool::new",
    ],
    acquire: &[
        RustAcquire {
            method: "get",
            handle: &DEADPOOL_OBJECT,
        },
        RustAcquire {
            method: "timeout_get",
            handle: &DEADPOOL_OBJECT,
        },
        RustAcquire {
            method: "try_get",
            handle: &DEADPOOL_OBJECT,
        },
    ],
    executor_methods: &[],
};

pub(crate) static BB8: RustPool = RustPool {
    types: &["bb8::Pool"],
    builders: &["bb8::Pool::builder"],
    acquire: &[
        RustAcquire {
            method: "get",
            handle: &BB8_CONN,
        },
        RustAcquire {
            method: "get_owned",
            handle: &BB8_CONN,
        },
    ],
    executor_methods: &[],
};

pub(crate) static MOBC: RustPool = RustPool {
    types: &["mobc::Pool"],
    builders: &["mobc::Pool::new", "mobc::Pool::builder"],
    acquire: &[
        RustAcquire {
            method: "get",
            handle: &MOBC_CONN,
        },
        RustAcquire {
            method: "get_timeout",
            handle: &MOBC_CONN,
        },
    ],
    executor_methods: &[],
};

pub(crate) static POOLS: &[&RustPool] = &[&SQLX, &R2D2, &DEADPOOL, &BB8, &MOBC];

/// Builders whose crate is not named in the path: `Pool::builder()` after `use bb8::Pool`
/// resolves through the imports; a bare `Config::create_pool` is deadpool's.
pub(crate) const DEADPOOL_CREATE_METHOD: &str = "create_pool";

/// Wrappers a pool is reached through in types (`&`, `Arc<PgPool>`, `web::Data<PgPool>`,
/// axum `State<PgPool>`/`Extension<PgPool>`).
pub(crate) const TYPE_WRAPPERS: &[&str] = &["Arc", "Rc", "Box", "Data", "State", "Extension"];

/// Calls that make a value never go back to its pool: a finding for CL009. Matched on the last
/// two path segments (`mem::forget`, `ManuallyDrop::new`) or the bare name when imported.
pub(crate) const FORGET_FUNCTIONS: &[(&str, &str)] = &[
    ("mem::forget", "`mem::forget`"),
    ("ManuallyDrop::new", "`ManuallyDrop::new`"),
    ("Box::leak", "`Box::leak`"),
    ("PoolConnection::leak", "`PoolConnection::leak`"),
];

/// Methods on a pooled connection that leak it (sqlx `PoolConnection::leak`).
pub(crate) const FORGET_METHODS: &[&str] = &["leak"];

/// Methods and functions that take a connection out of its pool for good on purpose (a
/// dedicated LISTEN connection): the pool opens a replacement or shrinks. Not flagged by
/// default; the connection is no longer the pool's.
pub(crate) const DETACH_METHODS: &[&str] = &["detach", "into_inner", "take"];
pub(crate) const DETACH_FUNCTIONS: &[&str] = &["Object::take", "Connection::take"];

/// Methods that consume a transaction or connection and give it back (`tx.commit()`).
pub(crate) const CONSUMING_RELEASES: &[&str] = &["commit", "rollback", "close"];

/// Calls that build a value around their argument, which keeps the connection inside
/// (`Ok(conn)`, `Box::new(conn)`): the result holds it.
pub(crate) const WRAPPING_CALLS: &[&str] = &[
    "Ok", "Some", "Err", "new", "from", "into", "Box::new", "Arc::new", "Rc::new",
];

/// Slow work that an `.await` can wait on (CL006), matched on the called path's last segments
/// or a method name. The default list; the awaited expression is described by the second
/// element.
pub(crate) const SLOW_AWAIT_FUNCTIONS: &[(&str, &str)] = &[
    ("time::sleep", "a sleep"),
    ("time::sleep_until", "a sleep"),
    ("task::sleep", "a sleep"),
    ("sleep", "a sleep"),
    ("sleep_until", "a sleep"),
    ("reqwest::get", "an HTTP request"),
    ("signal::ctrl_c", "a shutdown signal"),
    ("ctrl_c", "a shutdown signal"),
    ("body::to_bytes", "an HTTP body"),
    ("spawn", "a spawned task"),
    ("spawn_blocking", "a blocking task"),
    ("join_all", "a set of futures"),
    ("try_join_all", "a set of futures"),
];

/// Methods whose future is slow unrelated work (CL006).
pub(crate) const SLOW_AWAIT_METHODS: &[(&str, &str)] = &[
    ("recv", "a channel receive"),
    ("recv_async", "a channel receive"),
    ("recv_many", "a channel receive"),
    ("changed", "a watch channel change"),
    ("notified", "a notification"),
    ("tick", "a timer tick"),
    ("wait_with_output", "a subprocess"),
    ("output", "a subprocess"),
    ("status", "a subprocess"),
    ("wait", "a subprocess or barrier"),
    ("read_line", "reading input"),
    ("accept", "an incoming connection"),
];

/// Methods of HTTP client request builders and responses (reqwest, hyper): awaiting `send()`,
/// `text()`, `json()` or `bytes()` on a chain that started with one of these is an HTTP request.
pub(crate) const HTTP_BUILDER_METHODS: &[&str] =
    &["get", "post", "put", "patch", "delete", "head", "request"];
pub(crate) const HTTP_AWAIT_METHODS: &[&str] = &["send", "text", "json", "bytes", "chunk"];

/// Spawn functions whose closure or async block is analysed as a function of its own.
pub(crate) const SPAWN_FUNCTIONS: &[&str] = &[
    "tokio::spawn",
    "tokio::task::spawn",
    "task::spawn",
    "spawn",
    "std::thread::spawn",
    "thread::spawn",
    "tokio::task::spawn_blocking",
    "task::spawn_blocking",
    "spawn_blocking",
    "async_std::task::spawn",
];
