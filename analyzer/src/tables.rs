//! What each pool library's API does, as data: one table per library.
//!
//! Sourced from `shared/pool-apis.md` (versions named there). The front ends look names up here;
//! the dataflow reads the [`HandleSpec`] of an acquisition to know which calls give it back.

use serde::{Deserialize, Serialize};

/// How a connection object is given back, and what `with` on it does.
#[derive(Debug, PartialEq, Eq)]
pub struct HandleSpec {
    /// Shown in messages, e.g. "psycopg2 connection".
    pub name: &'static str,
    /// Methods on the connection itself that release it (`conn.close()`).
    pub release_methods: &'static [&'static str],
    /// Methods on the pool that take the connection back (`pool.putconn(conn)`).
    pub pool_release_methods: &'static [&'static str],
    /// Whether leaving `with conn:` (or `with acquire() as conn:`) gives the connection back.
    pub cm_releases: bool,
    /// For CL008: what `with` does instead, when it does not release.
    pub cm_note: &'static str,
}

/// What an acquisition holds: a library's connection (from the tables) or an instance of a
/// class of the user's project that owns one (a wrapper).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handle {
    Lib(&'static HandleSpec),
    Class(std::sync::Arc<ClassHandle>),
}

/// A class of the analysed project whose instances hold a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassHandle {
    /// Shown in messages: `Wrapped`.
    pub class: String,
    /// Its methods that give the connection back (`close`, `release`, ...), not counting
    /// `__exit__`/`__aexit__`/`__del__`.
    pub release_methods: Vec<String>,
    /// `with obj:` / `async with obj:` releases.
    pub cm_releases: bool,
    /// The finalizer that releases it when the object is collected, described with its
    /// location: "`Wrapped.__del__` (db.py:88)".
    pub finalizer: Option<String>,
}

impl Handle {
    pub fn name(&self) -> String {
        match self {
            Handle::Lib(h) => h.name.to_string(),
            Handle::Class(c) => format!("`{}` object", c.class),
        }
    }

    pub fn releases_by_method(&self, m: &str) -> bool {
        match self {
            Handle::Lib(h) => h.release_methods.contains(&m),
            Handle::Class(c) => c.release_methods.iter().any(|r| r == m),
        }
    }

    pub fn releases_by_pool_method(&self, m: &str) -> bool {
        match self {
            Handle::Lib(h) => h.pool_release_methods.contains(&m),
            Handle::Class(_) => false,
        }
    }

    pub fn cm_releases(&self) -> bool {
        match self {
            Handle::Lib(h) => h.cm_releases,
            Handle::Class(c) => c.cm_releases,
        }
    }

    pub fn cm_note(&self) -> &str {
        match self {
            Handle::Lib(h) => h.cm_note,
            Handle::Class(_) => "leaving the block does not release it",
        }
    }

    pub fn finalizer(&self) -> Option<&str> {
        match self {
            Handle::Lib(_) => None,
            Handle::Class(c) => c.finalizer.as_deref(),
        }
    }

    /// Whether it is a pooled connection (for wording help text).
    pub fn is_pooled(&self) -> bool {
        match self {
            Handle::Lib(h) => h.name.contains("pool"),
            Handle::Class(_) => false,
        }
    }
}

/// When a call really takes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The call itself acquires (awaiting its result is allowed and changes nothing).
    Plain,
    /// A coroutine: acquires only when awaited.
    Awaited,
    /// Acquires when awaited or when entered by `async with`/`with`.
    AwaitedOrEntered,
    /// Only a context manager: acquires when entered by `with`, nothing otherwise.
    EnteredOnly,
}

/// A call that returns a connection.
#[derive(Debug)]
pub struct AcquireSpec {
    /// Method name on a pool (`getconn`), or a qualified function path (`psycopg2.connect`).
    pub name: &'static str,
    pub form: Form,
    pub handle: &'static HandleSpec,
}

/// Pool methods whose wait for a free connection is bounded only by an argument of each call,
/// and is unbounded without it (CL012): (pooled connection kind, method, keyword). From
/// `shared/pool-apis.md`: asyncpg's `acquire(timeout=None)` waits forever.
pub const PER_CALL_WAITS: &[(&str, &str, &str)] =
    &[("asyncpg pooled connection", "acquire", "timeout")];

/// A kind of pool: how it is built, how it is typed, what acquires from it.
#[derive(Debug)]
pub struct PoolSpec {
    pub library: &'static str,
    /// Qualified constructor paths (`psycopg2.pool.ThreadedConnectionPool`).
    pub constructors: &'static [&'static str],
    /// Qualified type names accepted in annotations (`asyncpg.Pool`).
    pub types: &'static [&'static str],
    pub acquire: &'static [AcquireSpec],
    /// Calling the pool object itself acquires (SQLAlchemy `sessionmaker()`).
    pub call: Option<&'static AcquireSpec>,
}

/// One library: its pools and its direct connection functions.
#[derive(Debug)]
pub struct Library {
    pub name: &'static str,
    pub pools: &'static [PoolSpec],
    pub connects: &'static [AcquireSpec],
}

const TXN_ONLY: &str =
    "leaving the block commits or rolls back the transaction; the connection stays open";

// ---- psycopg2 -----------------------------------------------------------------------------
static PSYCOPG2_CONN: HandleSpec = HandleSpec {
    name: "psycopg2 connection",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: false,
    cm_note: TXN_ONLY,
};
// `close()` on a pooled connection closes the socket but the pool keeps the slot in `_used`.
static PSYCOPG2_POOLED: HandleSpec = HandleSpec {
    name: "psycopg2 pooled connection",
    release_methods: &[],
    pool_release_methods: &["putconn"],
    cm_releases: false,
    cm_note: "leaving the block commits or rolls back; the connection is not returned to the pool",
};
pub static PSYCOPG2: Library = Library {
    name: "psycopg2",
    pools: &[PoolSpec {
        library: "psycopg2",
        constructors: &[
            "psycopg2.pool.SimpleConnectionPool",
            "psycopg2.pool.ThreadedConnectionPool",
            "psycopg2.pool.AbstractConnectionPool",
            "psycopg2.pool.PersistentConnectionPool",
        ],
        types: &[
            "psycopg2.pool.SimpleConnectionPool",
            "psycopg2.pool.ThreadedConnectionPool",
            "psycopg2.pool.AbstractConnectionPool",
        ],
        acquire: &[AcquireSpec {
            name: "getconn",
            form: Form::Plain,
            handle: &PSYCOPG2_POOLED,
        }],
        call: None,
    }],
    connects: &[
        AcquireSpec {
            name: "psycopg2.connect",
            form: Form::Plain,
            handle: &PSYCOPG2_CONN,
        },
        AcquireSpec {
            name: "psycopg2.extensions.connection",
            form: Form::Plain,
            handle: &PSYCOPG2_CONN,
        },
    ],
};

// ---- psycopg 3 and psycopg_pool -------------------------------------------------------------
static PSYCOPG_CONN: HandleSpec = HandleSpec {
    name: "psycopg connection",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};
// A pooled psycopg 3 connection: `with conn:` and `close()` do not return it (close does only
// with `close_returns=True`, which is not modelled yet).
static PSYCOPG_POOLED: HandleSpec = HandleSpec {
    name: "psycopg_pool connection",
    release_methods: &[],
    pool_release_methods: &["putconn"],
    cm_releases: false,
    cm_note: "leaving the block commits or rolls back; the connection is not returned to the pool",
};
static PSYCOPG_POOL_CM: HandleSpec = HandleSpec {
    name: "psycopg_pool connection",
    release_methods: &[],
    pool_release_methods: &["putconn"],
    cm_releases: true,
    cm_note: "",
};
// With `close_returns=True`, `conn.close()` on a pooled connection calls `putconn`.
static PSYCOPG_POOLED_CLOSE_RETURNS: HandleSpec = HandleSpec {
    name: "psycopg_pool connection",
    release_methods: &["close"],
    pool_release_methods: &["putconn"],
    cm_releases: false,
    cm_note: "leaving the block commits or rolls back; the connection is not returned to the pool",
};
/// psycopg_pool built with `close_returns=True`: chosen by the front end from the constructor's
/// keyword, never by type or name.
pub static PSYCOPG_POOL_CLOSE_RETURNS: PoolSpec = PoolSpec {
    library: "psycopg_pool",
    constructors: &[],
    types: &[],
    acquire: &[
        AcquireSpec {
            name: "getconn",
            form: Form::Plain,
            handle: &PSYCOPG_POOLED_CLOSE_RETURNS,
        },
        AcquireSpec {
            name: "connection",
            form: Form::EnteredOnly,
            handle: &PSYCOPG_POOL_CM,
        },
    ],
    call: None,
};
pub static PSYCOPG: Library = Library {
    name: "psycopg",
    pools: &[PoolSpec {
        library: "psycopg_pool",
        constructors: &[
            "psycopg_pool.ConnectionPool",
            "psycopg_pool.AsyncConnectionPool",
            "psycopg_pool.NullConnectionPool",
            "psycopg_pool.AsyncNullConnectionPool",
        ],
        types: &[
            "psycopg_pool.ConnectionPool",
            "psycopg_pool.AsyncConnectionPool",
            "psycopg_pool.NullConnectionPool",
            "psycopg_pool.AsyncNullConnectionPool",
        ],
        acquire: &[
            AcquireSpec {
                name: "getconn",
                form: Form::Plain,
                handle: &PSYCOPG_POOLED,
            },
            AcquireSpec {
                name: "connection",
                form: Form::EnteredOnly,
                handle: &PSYCOPG_POOL_CM,
            },
        ],
        call: None,
    }],
    connects: &[
        AcquireSpec {
            name: "psycopg.connect",
            form: Form::Plain,
            handle: &PSYCOPG_CONN,
        },
        AcquireSpec {
            name: "psycopg.Connection.connect",
            form: Form::Plain,
            handle: &PSYCOPG_CONN,
        },
        AcquireSpec {
            name: "psycopg.AsyncConnection.connect",
            form: Form::Awaited,
            handle: &PSYCOPG_CONN,
        },
    ],
};

// ---- asyncpg --------------------------------------------------------------------------------
// asyncpg connections have no `async with`; `close()`/`terminate()` close them.
static ASYNCPG_CONN: HandleSpec = HandleSpec {
    name: "asyncpg connection",
    release_methods: &["close", "terminate"],
    pool_release_methods: &[],
    cm_releases: false,
    cm_note: "asyncpg connections are not context managers",
};
static ASYNCPG_POOLED: HandleSpec = HandleSpec {
    name: "asyncpg pooled connection",
    release_methods: &[],
    pool_release_methods: &["release"],
    cm_releases: true,
    cm_note: "",
};
pub static ASYNCPG: Library = Library {
    name: "asyncpg",
    pools: &[PoolSpec {
        library: "asyncpg",
        constructors: &[
            "asyncpg.create_pool",
            "asyncpg.pool.create_pool",
            "asyncpg.Pool",
        ],
        types: &["asyncpg.Pool", "asyncpg.pool.Pool"],
        acquire: &[AcquireSpec {
            name: "acquire",
            form: Form::AwaitedOrEntered,
            handle: &ASYNCPG_POOLED,
        }],
        call: None,
    }],
    connects: &[AcquireSpec {
        name: "asyncpg.connect",
        form: Form::Awaited,
        handle: &ASYNCPG_CONN,
    }],
};

// ---- SQLAlchemy -----------------------------------------------------------------------------
pub(crate) static SA_CONNECTION: HandleSpec = HandleSpec {
    name: "SQLAlchemy connection",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};
pub(crate) static SA_SESSION: HandleSpec = HandleSpec {
    name: "SQLAlchemy session",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};
static SA_SESSION_CALL: AcquireSpec = AcquireSpec {
    name: "__call__",
    form: Form::Plain,
    handle: &SA_SESSION,
};
pub static SQLALCHEMY: Library = Library {
    name: "sqlalchemy",
    pools: &[
        PoolSpec {
            library: "sqlalchemy",
            constructors: &[
                "sqlalchemy.create_engine",
                "sqlalchemy.engine.create_engine",
                "sqlalchemy.engine_from_config",
                "sqlalchemy.ext.asyncio.create_async_engine",
                "sqlalchemy.ext.asyncio.async_engine_from_config",
            ],
            types: &[
                "sqlalchemy.Engine",
                "sqlalchemy.engine.Engine",
                "sqlalchemy.engine.base.Engine",
                "sqlalchemy.ext.asyncio.AsyncEngine",
            ],
            acquire: &[
                AcquireSpec {
                    name: "connect",
                    form: Form::Plain,
                    handle: &SA_CONNECTION,
                },
                AcquireSpec {
                    name: "begin",
                    form: Form::EnteredOnly,
                    handle: &SA_CONNECTION,
                },
                AcquireSpec {
                    name: "raw_connection",
                    form: Form::Plain,
                    handle: &SA_CONNECTION,
                },
            ],
            call: None,
        },
        PoolSpec {
            library: "sqlalchemy",
            constructors: &[
                "sqlalchemy.orm.sessionmaker",
                "sqlalchemy.orm.scoped_session",
                "sqlalchemy.ext.asyncio.async_sessionmaker",
            ],
            types: &[
                "sqlalchemy.orm.sessionmaker",
                "sqlalchemy.ext.asyncio.async_sessionmaker",
            ],
            acquire: &[AcquireSpec {
                name: "begin",
                form: Form::EnteredOnly,
                handle: &SA_SESSION,
            }],
            call: Some(&SA_SESSION_CALL),
        },
    ],
    connects: &[
        AcquireSpec {
            name: "sqlalchemy.orm.Session",
            form: Form::Plain,
            handle: &SA_SESSION,
        },
        AcquireSpec {
            name: "sqlalchemy.ext.asyncio.AsyncSession",
            form: Form::Plain,
            handle: &SA_SESSION,
        },
    ],
};

// ---- sqlite3 --------------------------------------------------------------------------------
static SQLITE3_CONN: HandleSpec = HandleSpec {
    name: "sqlite3 connection",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: false,
    cm_note: TXN_ONLY,
};
pub static SQLITE3: Library = Library {
    name: "sqlite3",
    pools: &[],
    connects: &[
        AcquireSpec {
            name: "sqlite3.connect",
            form: Form::Plain,
            handle: &SQLITE3_CONN,
        },
        AcquireSpec {
            name: "sqlite3.dbapi2.connect",
            form: Form::Plain,
            handle: &SQLITE3_CONN,
        },
    ],
};

// ---- aiopg and aiomysql ---------------------------------------------------------------------
static AIO_CONN: HandleSpec = HandleSpec {
    name: "connection",
    release_methods: &["close", "ensure_closed"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};
static AIO_POOLED: HandleSpec = HandleSpec {
    name: "pooled connection",
    release_methods: &[],
    pool_release_methods: &["release"],
    cm_releases: true,
    cm_note: "",
};
pub static AIOPG: Library = Library {
    name: "aiopg",
    pools: &[PoolSpec {
        library: "aiopg",
        constructors: &["aiopg.create_pool", "aiopg.pool.create_pool"],
        types: &["aiopg.Pool", "aiopg.pool.Pool"],
        acquire: &[AcquireSpec {
            name: "acquire",
            form: Form::AwaitedOrEntered,
            handle: &AIO_POOLED,
        }],
        call: None,
    }],
    connects: &[AcquireSpec {
        name: "aiopg.connect",
        form: Form::AwaitedOrEntered,
        handle: &AIO_CONN,
    }],
};
pub static AIOMYSQL: Library = Library {
    name: "aiomysql",
    pools: &[PoolSpec {
        library: "aiomysql",
        constructors: &["aiomysql.create_pool", "aiomysql.pool.create_pool"],
        types: &["aiomysql.Pool", "aiomysql.pool.Pool"],
        acquire: &[AcquireSpec {
            name: "acquire",
            form: Form::AwaitedOrEntered,
            handle: &AIO_POOLED,
        }],
        call: None,
    }],
    connects: &[AcquireSpec {
        name: "aiomysql.connect",
        form: Form::AwaitedOrEntered,
        handle: &AIO_CONN,
    }],
};

// ---- PyMySQL, mysqlclient, mysql-connector --------------------------------------------------
// PyMySQL >= 1.0 and mysqlclient >= 2.0 close on `with`; older versions are not modelled.
static MYSQL_CONN: HandleSpec = HandleSpec {
    name: "MySQL connection",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};
pub static MYSQL: Library = Library {
    name: "mysql",
    pools: &[PoolSpec {
        library: "mysql.connector",
        constructors: &[
            "mysql.connector.pooling.MySQLConnectionPool",
            "mysql.connector.aio.pooling.MySQLConnectionPool",
        ],
        types: &["mysql.connector.pooling.MySQLConnectionPool"],
        acquire: &[AcquireSpec {
            name: "get_connection",
            form: Form::Plain,
            handle: &MYSQL_CONN,
        }],
        call: None,
    }],
    connects: &[
        AcquireSpec {
            name: "pymysql.connect",
            form: Form::Plain,
            handle: &MYSQL_CONN,
        },
        AcquireSpec {
            name: "pymysql.Connect",
            form: Form::Plain,
            handle: &MYSQL_CONN,
        },
        AcquireSpec {
            name: "pymysql.connections.Connection",
            form: Form::Plain,
            handle: &MYSQL_CONN,
        },
        AcquireSpec {
            name: "MySQLdb.connect",
            form: Form::Plain,
            handle: &MYSQL_CONN,
        },
        AcquireSpec {
            name: "MySQLdb.Connect",
            form: Form::Plain,
            handle: &MYSQL_CONN,
        },
        AcquireSpec {
            name: "mysql.connector.connect",
            form: Form::Plain,
            handle: &MYSQL_CONN,
        },
    ],
};

// ---- redis-py -------------------------------------------------------------------------------
static REDIS_POOLED: HandleSpec = HandleSpec {
    name: "redis connection",
    release_methods: &[],
    pool_release_methods: &["release"],
    cm_releases: false,
    cm_note: "redis connections are not context managers",
};
pub static REDIS: Library = Library {
    name: "redis",
    pools: &[PoolSpec {
        library: "redis",
        constructors: &[
            "redis.ConnectionPool",
            "redis.BlockingConnectionPool",
            "redis.connection.ConnectionPool",
            "redis.connection.BlockingConnectionPool",
            "redis.asyncio.ConnectionPool",
            "redis.asyncio.BlockingConnectionPool",
        ],
        types: &[
            "redis.ConnectionPool",
            "redis.BlockingConnectionPool",
            "redis.asyncio.ConnectionPool",
        ],
        acquire: &[AcquireSpec {
            name: "get_connection",
            form: Form::Plain,
            handle: &REDIS_POOLED,
        }],
        call: None,
    }],
    connects: &[],
};

// ---- DBUtils --------------------------------------------------------------------------------
static DBUTILS_POOLED: HandleSpec = HandleSpec {
    name: "DBUtils pooled connection",
    release_methods: &["close"],
    pool_release_methods: &[],
    cm_releases: true,
    cm_note: "",
};
pub static DBUTILS: Library = Library {
    name: "dbutils",
    pools: &[PoolSpec {
        library: "dbutils",
        constructors: &["dbutils.pooled_db.PooledDB", "DBUtils.PooledDB.PooledDB"],
        types: &["dbutils.pooled_db.PooledDB"],
        acquire: &[
            AcquireSpec {
                name: "connection",
                form: Form::Plain,
                handle: &DBUTILS_POOLED,
            },
            AcquireSpec {
                name: "dedicated_connection",
                form: Form::Plain,
                handle: &DBUTILS_POOLED,
            },
        ],
        call: None,
    }],
    connects: &[],
};

// ---- pools known only by name ---------------------------------------------------------------
// A receiver called `pool`/`*_pool` whose construction we cannot see. Every release any library
// accepts is accepted, so that guessing the kind never produces a false alarm.
static GENERIC_POOLED: HandleSpec = HandleSpec {
    name: "pooled connection",
    release_methods: &["close"],
    pool_release_methods: &["putconn", "release"],
    cm_releases: true,
    cm_note: "",
};
// `getconn` exists only in psycopg2 and psycopg_pool: for both, `with conn:` ends a transaction
// and `close()` does not return the connection; only `putconn` does.
static GENERIC_GETCONN: HandleSpec = HandleSpec {
    name: "pooled connection",
    release_methods: &[],
    pool_release_methods: &["putconn"],
    cm_releases: false,
    cm_note: "leaving the block commits or rolls back; the connection is not returned to the pool",
};
pub static GENERIC_POOL: PoolSpec = PoolSpec {
    library: "pool",
    constructors: &[],
    types: &[],
    acquire: &[
        AcquireSpec {
            name: "getconn",
            form: Form::Plain,
            handle: &GENERIC_GETCONN,
        },
        AcquireSpec {
            name: "acquire",
            form: Form::AwaitedOrEntered,
            handle: &GENERIC_POOLED,
        },
        AcquireSpec {
            name: "connection",
            form: Form::EnteredOnly,
            handle: &GENERIC_POOLED,
        },
    ],
    call: None,
};
/// A receiver called `engine`/`*_engine`: SQLAlchemy by convention.
pub fn generic_engine() -> &'static PoolSpec {
    &SQLALCHEMY.pools[0]
}

/// A resource released by a helper of the user's (a closer): any release counts.
pub static ANY_RESOURCE: HandleSpec = HandleSpec {
    name: "resource",
    release_methods: &["close", "terminate", "aclose"],
    pool_release_methods: &["putconn", "release"],
    cm_releases: true,
    cm_note: "",
};

// ---- Pool sizes ----------------------------------------------------------------------------
// What each pool constructor's arguments mean for how many connections it opens and whether a
// caller can wait forever, from `shared/pool-apis.md` (the exhaustion table and each library's
// section).

/// How a constructor's arguments size a pool and bound its waits.
#[derive(Debug)]
pub struct PoolSizing {
    /// Qualified constructor paths.
    pub constructors: &'static [&'static str],
    pub library: &'static str,
    /// The server whose connection slots it uses; empty for none.
    pub database: &'static str,
    pub size: SizeRule,
    pub wait: WaitRule,
    /// A keyword that makes the call share an existing pool instead of building one
    /// (`redis.Redis(connection_pool=pool)`).
    pub shares_with: Option<&'static str>,
}

/// An argument by keyword, and by position when it may be passed positionally.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub position: Option<usize>,
}

const fn kw(name: &'static str) -> Param {
    Param {
        name,
        position: None,
    }
}

const fn pos(name: &'static str, position: usize) -> Param {
    Param {
        name,
        position: Some(position),
    }
}

/// What an argument left out means.
#[derive(Debug)]
pub enum Missing {
    Value(u64),
    Unlimited,
    /// The argument is required.
    Required,
}

#[derive(Debug)]
pub enum SizeRule {
    /// One argument is the maximum; `zero_unlimited`/`none_unlimited` say which values mean
    /// no limit (otherwise `None` means the default).
    Max {
        param: Param,
        missing: Missing,
        zero_unlimited: bool,
        none_unlimited: bool,
        /// Shown with the default: "redis-py 8 default".
        default_note: &'static str,
    },
    /// SQLAlchemy's engine: `pool_size + max_overflow`; `pool_size=0` or `max_overflow=-1`
    /// mean no limit.
    PoolPlusOverflow,
    /// psycopg_pool: `max_size=None` means `min_size` (default 4).
    MaxOrMin,
}

#[derive(Debug)]
pub enum WaitRule {
    /// Exhaustion raises or times out.
    Bounded,
    /// Callers always wait without a timeout.
    Always(&'static str),
    /// This argument set to `None` removes the timeout.
    WhenNone(Param, &'static str),
    /// This argument set to `True` makes callers wait without a timeout.
    WhenTrue(Param, &'static str),
}

pub static POOL_SIZINGS: &[PoolSizing] = &[
    PoolSizing {
        constructors: &[
            "psycopg2.pool.SimpleConnectionPool",
            "psycopg2.pool.ThreadedConnectionPool",
        ],
        library: "psycopg2",
        database: "PostgreSQL",
        size: SizeRule::Max {
            param: pos("maxconn", 1),
            missing: Missing::Required,
            zero_unlimited: false,
            none_unlimited: false,
            default_note: "",
        },
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "psycopg_pool.ConnectionPool",
            "psycopg_pool.AsyncConnectionPool",
        ],
        library: "psycopg_pool",
        database: "PostgreSQL",
        size: SizeRule::MaxOrMin,
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "psycopg_pool.NullConnectionPool",
            "psycopg_pool.AsyncNullConnectionPool",
        ],
        library: "psycopg_pool",
        database: "PostgreSQL",
        size: SizeRule::Max {
            param: kw("max_size"),
            missing: Missing::Unlimited,
            zero_unlimited: true,
            none_unlimited: true,
            default_note: "",
        },
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "asyncpg.create_pool",
            "asyncpg.pool.create_pool",
            "asyncpg.Pool",
        ],
        library: "asyncpg",
        database: "PostgreSQL",
        size: SizeRule::Max {
            param: kw("max_size"),
            missing: Missing::Value(10),
            zero_unlimited: false,
            none_unlimited: false,
            default_note: "asyncpg's default",
        },
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "sqlalchemy.create_engine",
            "sqlalchemy.engine.create_engine",
            "sqlalchemy.ext.asyncio.create_async_engine",
        ],
        library: "SQLAlchemy",
        database: "PostgreSQL",
        size: SizeRule::PoolPlusOverflow,
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &["aiopg.create_pool", "aiopg.pool.create_pool"],
        library: "aiopg",
        database: "PostgreSQL",
        size: SizeRule::Max {
            param: kw("maxsize"),
            missing: Missing::Value(10),
            zero_unlimited: true,
            none_unlimited: true,
            default_note: "aiopg's default",
        },
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &["aiomysql.create_pool", "aiomysql.pool.create_pool"],
        library: "aiomysql",
        database: "MySQL",
        size: SizeRule::Max {
            param: pos("maxsize", 1),
            missing: Missing::Value(10),
            zero_unlimited: true,
            none_unlimited: false,
            default_note: "aiomysql's default",
        },
        wait: WaitRule::Always(
            "aiomysql's `acquire()` takes no timeout and waits on the pool without one",
        ),
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "mysql.connector.pooling.MySQLConnectionPool",
            "mysql.connector.aio.pooling.MySQLConnectionPool",
        ],
        library: "mysql.connector",
        database: "MySQL",
        size: SizeRule::Max {
            param: pos("pool_size", 0),
            missing: Missing::Value(5),
            zero_unlimited: false,
            none_unlimited: false,
            default_note: "mysql.connector's default",
        },
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "redis.ConnectionPool",
            "redis.connection.ConnectionPool",
            "redis.asyncio.ConnectionPool",
        ],
        library: "redis",
        database: "Redis",
        size: SizeRule::Max {
            param: pos("max_connections", 1),
            missing: Missing::Value(100),
            zero_unlimited: false,
            none_unlimited: false,
            default_note: "redis-py 8 default",
        },
        wait: WaitRule::Bounded,
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "redis.BlockingConnectionPool",
            "redis.connection.BlockingConnectionPool",
            "redis.asyncio.BlockingConnectionPool",
        ],
        library: "redis",
        database: "Redis",
        size: SizeRule::Max {
            param: pos("max_connections", 0),
            missing: Missing::Value(50),
            zero_unlimited: false,
            none_unlimited: false,
            default_note: "redis-py's default",
        },
        wait: WaitRule::WhenNone(
            pos("timeout", 1),
            "`BlockingConnectionPool(timeout=None)` waits for a connection forever",
        ),
        shares_with: None,
    },
    PoolSizing {
        constructors: &[
            "redis.Redis",
            "redis.StrictRedis",
            "redis.Redis.from_url",
            "redis.from_url",
            "redis.asyncio.Redis",
            "redis.asyncio.from_url",
            "redis.asyncio.Redis.from_url",
        ],
        library: "redis",
        database: "Redis",
        size: SizeRule::Max {
            param: kw("max_connections"),
            missing: Missing::Value(100),
            zero_unlimited: false,
            none_unlimited: false,
            default_note: "redis-py 8 default for a client's own pool",
        },
        wait: WaitRule::Bounded,
        shares_with: Some("connection_pool"),
    },
    PoolSizing {
        constructors: &["dbutils.pooled_db.PooledDB", "DBUtils.PooledDB.PooledDB"],
        library: "DBUtils",
        database: "PostgreSQL",
        size: SizeRule::Max {
            param: pos("maxconnections", 4),
            missing: Missing::Unlimited,
            zero_unlimited: true,
            none_unlimited: true,
            default_note: "",
        },
        wait: WaitRule::WhenTrue(
            pos("blocking", 5),
            "`PooledDB(blocking=True)` waits on a condition with no timeout",
        ),
        shares_with: None,
    },
];

/// The sizing facts of the pool constructor at `path`.
pub fn pool_sizing(path: &str) -> Option<&'static PoolSizing> {
    POOL_SIZINGS.iter().find(|s| s.constructors.contains(&path))
}

/// The last component of every sizing constructor, for a quick text scan.
pub fn pool_constructor_words() -> impl Iterator<Item = &'static str> {
    POOL_SIZINGS
        .iter()
        .flat_map(|s| s.constructors.iter())
        .map(|c| c.rsplit('.').next().unwrap_or(c))
}

/// Every [`HandleSpec`] there is: a cached [`Handle::Lib`] is read back as one of these.
static ALL_HANDLES: &[&HandleSpec] = &[
    &PSYCOPG2_CONN,
    &PSYCOPG2_POOLED,
    &PSYCOPG_CONN,
    &PSYCOPG_POOLED,
    &PSYCOPG_POOL_CM,
    &PSYCOPG_POOLED_CLOSE_RETURNS,
    &ASYNCPG_CONN,
    &ASYNCPG_POOLED,
    &SA_CONNECTION,
    &SA_SESSION,
    &SQLITE3_CONN,
    &AIO_CONN,
    &AIO_POOLED,
    &MYSQL_CONN,
    &REDIS_POOLED,
    &DBUTILS_POOLED,
    &GENERIC_POOLED,
    &GENERIC_GETCONN,
    &ANY_RESOURCE,
    &crate::project::DECLARED,
];

/// A [`HandleSpec`] written out by value. Reading one back finds the table entry with exactly
/// these contents, so a cache written before a table changed is unreadable, never wrong.
#[derive(Serialize, Deserialize, PartialEq)]
struct SpecByValue {
    name: String,
    release_methods: Vec<String>,
    pool_release_methods: Vec<String>,
    cm_releases: bool,
    cm_note: String,
}

impl SpecByValue {
    fn of(spec: &HandleSpec) -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        SpecByValue {
            name: spec.name.to_string(),
            release_methods: owned(spec.release_methods),
            pool_release_methods: owned(spec.pool_release_methods),
            cm_releases: spec.cm_releases,
            cm_note: spec.cm_note.to_string(),
        }
    }
}

#[derive(Serialize, Deserialize)]
enum HandleByValue {
    Lib(SpecByValue),
    Class(ClassHandle),
}

impl Serialize for Handle {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Handle::Lib(spec) => HandleByValue::Lib(SpecByValue::of(spec)),
            Handle::Class(class) => HandleByValue::Class(ClassHandle::clone(class)),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Handle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match HandleByValue::deserialize(deserializer)? {
            HandleByValue::Lib(value) => ALL_HANDLES
                .iter()
                .find(|spec| SpecByValue::of(spec) == value)
                .map(|spec| Handle::Lib(spec))
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("no such connection kind: {}", value.name))
                }),
            HandleByValue::Class(class) => Ok(Handle::Class(std::sync::Arc::new(class))),
        }
    }
}

pub static LIBRARIES: &[&Library] = &[
    &PSYCOPG2,
    &PSYCOPG,
    &ASYNCPG,
    &SQLALCHEMY,
    &SQLITE3,
    &AIOPG,
    &AIOMYSQL,
    &MYSQL,
    &REDIS,
    &DBUTILS,
];

/// The pool kind built by the constructor at `path`.
pub fn pool_by_constructor(path: &str) -> Option<&'static PoolSpec> {
    LIBRARIES
        .iter()
        .flat_map(|l| l.pools.iter())
        .find(|p| p.constructors.contains(&path))
}

/// The pool kind named by a type annotation resolved to `path`.
pub fn pool_by_type(path: &str) -> Option<&'static PoolSpec> {
    LIBRARIES
        .iter()
        .flat_map(|l| l.pools.iter())
        .find(|p| p.types.contains(&path))
}

/// A direct connection function or class at `path`.
pub fn connect_by_path(path: &str) -> Option<&'static AcquireSpec> {
    LIBRARIES
        .iter()
        .flat_map(|l| l.connects.iter())
        .find(|c| c.name == path)
}

impl PoolSpec {
    pub fn acquire_method(&self, method: &str) -> Option<&'static AcquireSpec>
    where
        Self: 'static,
    {
        self.acquire.iter().find(|a| a.name == method)
    }
}

/// Every method name that releases something in some library; a call to another name is never
/// a release, which keeps the flow graph small.
pub fn is_release_method(name: &str) -> bool {
    matches!(name, "close" | "terminate" | "ensure_closed" | "aclose")
}

pub fn is_pool_release_method(name: &str) -> bool {
    matches!(name, "putconn" | "release")
}

/// Defines [`ACQUIRING_NAMES`] and [`is_acquiring_name`] from one list: the test is a `match`,
/// not a scan of the list, since it is asked of every word of every file analysed (the scan
/// compared each word with every name: 2.5% of SQLAlchemy's run in `memcmp`).
macro_rules! acquiring_names {
    ($($name:literal),* $(,)?) => {
        /// Call names that can acquire (a method of a pool, engine or exit stack, or a
        /// function).
        pub const ACQUIRING_NAMES: &[&str] = &[$($name),*];

        /// Names that can start an acquisition when called. A function that calls none of
        /// them (nor a function of its file that does) cannot hold a connection it acquired,
        /// so it is not lowered; helpers that only release are pulled in through their
        /// callers.
        pub fn is_acquiring_name(name: &str) -> bool {
            matches!(name, $($name)|*)
        }
    };
}

acquiring_names!(
    "getconn",
    "acquire",
    "connect",
    "connection",
    "dedicated_connection",
    "raw_connection",
    "begin",
    "get_connection",
    "Session",
    "AsyncSession",
    "enter_context",
    "enter_async_context",
);

#[cfg(test)]
mod tests {
    #[test]
    fn every_handle_spec_can_be_read_back_from_the_cache() {
        // A static added to the tables but not to ALL_HANDLES would make every cache entry
        // that mentions it unreadable (a silent slowdown, not a wrong result).
        let defined = include_str!("tables.rs")
            .matches(concat!(": HandleSpec = ", "HandleSpec {"))
            .count()
            + include_str!("project.rs")
                .matches(concat!(
                    ": crate::tables::HandleSpec = ",
                    "crate::tables::HandleSpec {"
                ))
                .count();
        assert_eq!(super::ALL_HANDLES.len(), defined);
        for spec in super::ALL_HANDLES {
            let handle = super::Handle::Lib(spec);
            let bytes = postcard::to_allocvec(&handle).unwrap();
            let back: super::Handle = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(back, handle);
        }
    }

    use super::*;

    #[test]
    fn every_constructor_and_connect_path_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for lib in LIBRARIES {
            for p in lib.pools {
                for c in p.constructors {
                    assert!(seen.insert(*c), "duplicate constructor {c}");
                }
            }
            for c in lib.connects {
                assert!(seen.insert(c.name), "duplicate connect {}", c.name);
            }
        }
    }

    #[test]
    fn release_names_cover_every_table() {
        for lib in LIBRARIES {
            for spec in lib.pools.iter().flat_map(|p| p.acquire).chain(lib.connects) {
                for m in spec.handle.release_methods {
                    assert!(is_release_method(m), "{m} missing from is_release_method");
                }
                for m in spec.handle.pool_release_methods {
                    assert!(
                        is_pool_release_method(m),
                        "{m} missing from is_pool_release_method"
                    );
                }
            }
        }
    }
}
