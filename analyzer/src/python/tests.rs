//! Engine tests: inline Python in, summary dump out (`UPDATE_EXPECT=1 cargo test` refreshes).

use expect_test::{expect, Expect};

use crate::{analyze, Language};

fn check(src: &str, expected: Expect) {
    let analysis = analyze(Language::Python, src);
    expected.assert_eq(&analysis.dump(src));
}

#[test]
fn early_return_holds_and_finally_releases() {
    check(
        r#"
def leaky(pool, key):
    conn = pool.getconn()
    if key is None:
        return None
    pool.putconn(conn)

def guarded(pool):
    conn = None
    try:
        conn = pool.getconn()
        conn.cursor().execute("select 1")
    finally:
        if conn is not None:
            pool.putconn(conn)
"#,
        expect![[r#"
            leaky
              pool.getconn() line 3
                held at Return line 5
            guarded
              pool.getconn() line 11
        "#]],
    );
}

#[test]
fn exception_between_acquire_and_release() {
    check(
        r#"
def after_success(pool):
    conn = pool.getconn()
    conn.cursor().execute("SET search_path TO app")
    try:
        conn.cursor().execute("select 1")
    finally:
        pool.putconn(conn)
"#,
        expect![[r#"
            after_success
              pool.getconn() line 3
                held if raised at lines [4]
        "#]],
    );
}

#[test]
fn typed_handlers_let_other_exceptions_through_and_bare_raise_keeps_the_origin() {
    check(
        r#"
import psycopg2

def narrow(pool):
    conn = pool.getconn()
    try:
        conn.cursor().execute("select 1")
    except psycopg2.IntegrityError:
        pass
    pool.putconn(conn)

def broad(pool):
    conn = pool.getconn()
    try:
        conn.cursor().execute("select 1")
    except Exception:
        conn.rollback()
        raise
    pool.putconn(conn)
"#,
        expect![[r#"
            narrow
              pool.getconn() line 5
                held if raised at lines [7]
            broad
              pool.getconn() line 13
                held if raised at lines [15, 17]
        "#]],
    );
}

#[test]
fn finally_runs_on_break_continue_and_return() {
    check(
        r#"
def loop(pool, keys):
    for key in keys:
        conn = pool.getconn()
        try:
            if key:
                continue
            if key is None:
                break
            return key
        finally:
            pool.putconn(conn)
"#,
        expect![[r#"
            loop
              pool.getconn() line 4
        "#]],
    );
}

#[test]
fn retry_loop_that_loses_the_failed_attempt() {
    check(
        r#"
import psycopg2

def retry(pool):
    while True:
        try:
            conn = pool.getconn()
            conn.cursor().execute("SET x = 1")
            break
        except psycopg2.OperationalError:
            continue
    pool.putconn(conn)
"#,
        expect![[r#"
            retry
              pool.getconn() line 7
                held if raised at lines [7, 8]
                acquired again while held at line 7
        "#]],
    );
}

#[test]
fn context_managers_scope_or_misuse() {
    check(
        r#"
import contextlib
import sqlite3

def scoped(pool):
    with pool.connection() as conn:
        return conn.execute("select 1")

async def scoped_async(pool):
    async with pool.acquire() as conn:
        return await conn.fetchval("select 1")

def misuse(path):
    with sqlite3.connect(path) as conn:
        conn.execute("select 1")

def closing(path):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("select 1")
"#,
        expect![[r#"
            scoped
              pool.connection() line 6 [scoped]
            scoped_async
              pool.acquire() line 10 [scoped]
            misuse
              sqlite3.connect() line 14
                held at FallThrough line 15
                held if raised at lines [15]
                `with` that does not release at line 14
            closing
              sqlite3.connect() line 18 [scoped]
        "#]],
    );
}

#[test]
fn contextmanager_generator_receives_the_body_exception_at_yield() {
    check(
        r#"
from contextlib import contextmanager

@contextmanager
def borrowed(pool):
    conn = pool.getconn()
    yield conn
    pool.putconn(conn)

@contextmanager
def safe(pool):
    conn = pool.getconn()
    try:
        yield conn
    finally:
        pool.putconn(conn)
"#,
        expect![[r#"
            borrowed
              pool.getconn() line 6
                held if raised at lines [7]
            safe
              pool.getconn() line 12
        "#]],
    );
}

#[test]
fn factories_closers_and_stores_in_the_same_file() {
    check(
        r#"
def get_conn(pool):
    conn = pool.getconn()
    return conn

def give_back(pool, conn):
    pool.putconn(conn)

def keep(registry, conn):
    registry.append(conn)

def caller(pool):
    conn = get_conn(pool)
    try:
        conn.cursor()
    finally:
        give_back(pool, conn)

def forgets(pool):
    conn = get_conn(pool)
    return conn.closed

def hands_over(pool, registry):
    keep(registry, get_conn(pool))
"#,
        expect![[r#"
            get_conn: returns a connection
              pool.getconn() line 3 [returned]
            give_back: releases params [1]
            keep: stores params [1]
            caller
              get_conn() line 13 via `get_conn` (line 2)
            forgets
              get_conn() line 20 via `get_conn` (line 2)
                held at Return line 21
            hands_over
              get_conn() line 24 via `get_conn` (line 2) [stored]
        "#]],
    );
}

#[test]
fn summaries_settle_whatever_order_the_functions_come_in() {
    // Callers before the factories they call, `@overload` stubs before the real definition,
    // a recursive helper, and a class used before it is defined.
    let src = r#"
from typing import overload

def outer(pool):
    conn = middle(pool)
    return conn.closed

def middle(pool):
    return inner(pool)

@overload
def inner(pool: int): ...
@overload
def inner(pool: str): ...
def inner(pool):
    conn = pool.getconn()
    return conn

def retried(pool, n):
    if n:
        return retried(pool, n - 1)
    return inner(pool)

def uses_wrapper(pool):
    w = Wrapper(pool)
    return w.query()

class Wrapper:
    def __init__(self, pool):
        self.conn = pool.getconn()

    def close(self):
        self.conn.close()
"#;
    crate::python::LOWERINGS.with(|n| n.set(0));
    check(
        src,
        expect![[r#"
            outer: stores params [0]
              middle() line 5 via `middle` (line 8)
                held at Return line 6
            middle: returns a connection, stores params [0]
              inner() line 9 via `inner` (line 15) [returned]
            inner: returns a connection
              pool.getconn() line 16 [returned]
            retried: returns a connection, stores params [0]
              retried() line 21 via `retried` (line 19) [returned]
              inner() line 22 via `inner` (line 15) [returned]
            uses_wrapper: stores params [0]
              Wrapper() line 25 via `Wrapper` (line 29)
                held at Return line 26
                held if raised at lines [26]
            Wrapper.__init__
              pool.getconn() line 30 [stored]
        "#]],
    );
    // Ten units (the module counts): each lowered once, twice at most when it mentions a name
    // settled only after it (the overloaded `inner`, the class, its own recursion). Lowering
    // them in file order, then again by rounds, took 26.
    let lowerings = crate::python::LOWERINGS.with(std::cell::Cell::get);
    assert!(lowerings <= 14, "{lowerings}");
}

#[test]
fn many_functions_sharing_a_name_are_lowered_a_few_times_each() {
    // Generated code: hundreds of classes whose methods share their names, each `close`
    // changing the summary every `run` mentions. Lowering a mention again at every change went
    // back and forth, 200 x 200 times.
    let mut src = String::new();
    for i in 0..200 {
        src.push_str(&format!(
            "class W{i}:\n    def __init__(self, pool):\n        self.c = pool.getconn()\n\n    def close(self):\n        self.c.close()\n\n    def run(self):\n        self.close()\n\n"
        ));
    }
    crate::python::LOWERINGS.with(|n| n.set(0));
    let analysis = analyze(Language::Python, &src);
    assert!(analysis.problems.is_empty(), "{:?}", analysis.problems);
    let lowerings = crate::python::LOWERINGS.with(std::cell::Cell::get);
    // 600 functions and the module.
    assert!(lowerings <= 3 * 601, "{lowerings}");
}

#[test]
fn pools_recognised_by_constructor_annotation_and_self() {
    check(
        r#"
import asyncpg
from psycopg2.pool import ThreadedConnectionPool as TCP

POOL = TCP(1, 5, "dbname=x")

class Repo:
    def __init__(self, dsn):
        self.db = TCP(1, 5, dsn)

    def get(self):
        return self.db.getconn().closed

def module_level():
    c = POOL.getconn()

async def annotated(p: asyncpg.Pool):
    c = await p.acquire()
"#,
        expect![[r#"
            pool TCP() line 5 in <module> -> POOL: psycopg2 PostgreSQL, max 5 (`maxconn=5`), Module
            pool TCP() line 9 in Repo.__init__ -> self.db: psycopg2 PostgreSQL, max 5 (`maxconn=5`), Instance
            Repo.__init__: stores params [0]
            Repo.get
              self.db.getconn() line 12
                held at Return line 12, dropped at line 12
            module_level
              POOL.getconn() line 15
                held at FallThrough line 15
            annotated
              p.acquire() line 18
                held at FallThrough line 18
        "#]],
    );
}

#[test]
fn syntax_errors_keep_the_intact_functions() {
    check(
        "def broken(:\n    pass\n\ndef fine(pool):\n    conn = pool.getconn()\n",
        expect![[r#"
            problem (line 1): syntax error: Expected a parameter or the end of the parameter list; functions containing it are not analysed
            fine
              pool.getconn() line 5
                held at FallThrough line 5
        "#]],
    );
}

#[test]
fn deep_nesting_is_a_problem_not_a_crash() {
    let depth = 5000;
    let src = format!(
        "def f(pool):\n    x = {}1{}\n    conn = pool.getconn()\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let analysis = analyze(Language::Python, &src);
    assert!(
        analysis
            .problems
            .iter()
            .any(|p| p.message.contains("nested too deeply")),
        "{:?}",
        analysis.problems
    );
    // One space per level keeps the file at 12 MB instead of 50 MB.
    let mut src = String::from("def g(pool):\n");
    for i in 0..depth {
        src.push_str(&" ".repeat(i + 1));
        src.push_str("if True:\n");
    }
    src.push_str(&" ".repeat(depth + 1));
    src.push_str("pass\n");
    let analysis = analyze(Language::Python, &src);
    assert!(!analysis.problems.is_empty());
    // A long operator chain is walked iteratively: the function is still analysed.
    let src = format!(
        "def h(pool):\n    x = {}\n    conn = pool.getconn()\n",
        vec!["a"; depth].join(" + ")
    );
    let analysis = analyze(Language::Python, &src);
    assert!(analysis.problems.is_empty(), "{:?}", analysis.problems);
    assert_eq!(
        analysis
            .functions
            .iter()
            .map(|f| f.acquisitions.len())
            .sum::<usize>(),
        1
    );
}

#[test]
fn nested_acquisitions_and_slow_awaits_while_held() {
    check(
        r#"
import asyncio

def helper(pool):
    conn = pool.getconn()
    try:
        conn.cursor().execute("select 1")
    finally:
        pool.putconn(conn)

def nested(pool):
    conn = pool.getconn()
    try:
        other = pool.getconn()
        pool.putconn(other)
        helper(pool)
    finally:
        pool.putconn(conn)

async def held(pool, other_pool):
    async with pool.acquire() as conn:
        await asyncio.sleep(1)
        async with other_pool.acquire() as c2:
            await c2.execute("select 1")
        await conn.execute("select 1")
"#,
        expect![[r#"
            helper
              pool.getconn() line 5
            nested
              pool.getconn() line 12
              pool.getconn() line 14
              nested pool.getconn() line 14 from `pool` while line 12 is held
              nested helper() line 16 from `pool` via helper while line 12 is held
            held
              pool.acquire() line 21 [scoped]
                held across a sleep at line 22
                held across a connection from another pool (`other_pool`) at line 23
              other_pool.acquire() line 23 [scoped]
        "#]],
    );
}

#[test]
fn pool_constructions_sizes_waits_and_placements() {
    check(
        r#"
import os
from functools import lru_cache

import asyncpg
import redis
from psycopg2.pool import ThreadedConnectionPool
from sqlalchemy import create_engine
from dbutils.pooled_db import PooledDB
import pymysql
import aiomysql
from psycopg_pool import ConnectionPool

POOL_MAX = 20
ENGINE = create_engine("postgresql://app@db/app", pool_size=10, max_overflow=POOL_MAX)
UNBOUNDED = create_engine(os.environ["DATABASE_URL"], max_overflow=-1)
FROM_ENV = ThreadedConnectionPool(1, int(os.environ.get("POOL_SIZE", "10")), "dbname=app")
CLAMPED = ThreadedConnectionPool(1, min(int(os.getenv("POOL_SIZE", "10")), 50), "dbname=app")
LEGACY = PooledDB(pymysql, 2, blocking=True)
SQLITE = create_engine("sqlite:///app.db")
PG3 = ConnectionPool("dbname=app")

_pool = None


def get_pool():
    global _pool
    if _pool is None:
        _pool = ThreadedConnectionPool(1, 5, "dbname=app")
    return _pool


def handler(request):
    pool = ThreadedConnectionPool(1, 1000, "dbname=app")
    conn = pool.getconn()
    return conn


def make_engine(url):
    return create_engine(url, pool_size=5)


@lru_cache(maxsize=None)
def engine_for(project):
    return create_engine(f"postgresql://db/{project}")


_pools = {}


def pool_for(key):
    if key not in _pools:
        _pools[key] = ThreadedConnectionPool(1, 10, dsn=key)
    return _pools[key]


async def startup(app):
    app.state.pool = await asyncpg.create_pool(max_size=30)


async def per_request():
    async with aiomysql.create_pool(maxsize=0) as pool:
        pass


def cache():
    return redis.Redis(host="cache")


def shared(pool):
    return redis.Redis(connection_pool=pool)


class Repo:
    def __init__(self, dsn):
        self.pool = ThreadedConnectionPool(1, 8, dsn)


for shard in range(4):
    create_engine(f"postgresql://db/{shard}")


HEX = create_engine("postgresql://db/a", pool_size=0x10, max_overflow=1_0)
NEG = ThreadedConnectionPool(1, -(-5), "dbname=app")
BIG = ThreadedConnectionPool(1, 99999999999999999999999, "dbname=app")
DIV = ThreadedConnectionPool(1, 100 // 0, "dbname=app")
SPLAT = ThreadedConnectionPool(*ARGS)
KW = create_engine("postgresql://db/a", **OPTIONS)
NULLPOOL = create_engine("postgresql://db/a", poolclass=NullPool)
MAXED = ThreadedConnectionPool(1, max(int(os.getenv("N", "3")), 5), "dbname=app")
SCALED = ThreadedConnectionPool(1, int(os.getenv("N", "3")) * 2, "dbname=app")
TWICE = TWICE_VALUE = 3
"#,
        expect![[r#"
            pool create_engine() line 15 in <module> -> ENGINE: SQLAlchemy PostgreSQL, max 30 (`pool_size=10` + `max_overflow=POOL_MAX` (20)), Module
            pool create_engine() line 16 in <module> -> UNBOUNDED: SQLAlchemy PostgreSQL, unbounded (`max_overflow=-1` means no overflow limit in SQLAlchemy), Module
            pool ThreadedConnectionPool() line 17 in <module> -> FROM_ENV: psycopg2 PostgreSQL, max from $POOL_SIZE (default Some(10)), Module
            pool ThreadedConnectionPool() line 18 in <module> -> CLAMPED: psycopg2 PostgreSQL, max 50 (`maxconn=min(int(os.getenv("POOL_SIZE", "10")), 50)` (50)), Module
            pool PooledDB() line 19 in <module> -> LEGACY: DBUtils MySQL, unbounded (`maxconnections` not set: no limit in DBUtils), waits forever (`PooledDB(blocking=True)` waits on a condition with no timeout), Module
            pool create_engine() line 20 in <module> -> SQLITE: SQLAlchemy -, max 15 (`pool_size` not set: 5 + `max_overflow` not set: 10), Module
            pool ConnectionPool() line 21 in <module> -> PG3: psycopg_pool PostgreSQL, max 4 (`max_size` not set: `min_size`, 4 by default), Module
            pool ThreadedConnectionPool() line 29 in get_pool -> _pool: psycopg2 PostgreSQL, max 5 (`maxconn=5`), Singleton
            pool ThreadedConnectionPool() line 34 in handler -> pool: psycopg2 PostgreSQL, max 1000 (`maxconn=1000`), PerCall
            pool create_engine() line 40 in make_engine: SQLAlchemy PostgreSQL, max 15 (`pool_size=5` + `max_overflow` not set: 10), Factory
            pool create_engine() line 45 in engine_for: SQLAlchemy PostgreSQL, max 15 (`pool_size` not set: 5 + `max_overflow` not set: 10), PerKey { why: "`@lru_cache` builds one per distinct argument" }
            pool ThreadedConnectionPool() line 53 in pool_for -> _pools[key]: psycopg2 PostgreSQL, max 10 (`maxconn=10`), PerKey { why: "one per key of `_pools`" }
            pool asyncpg.create_pool() line 58 in startup -> app.state.pool: asyncpg PostgreSQL, max 30 (`max_size=30`), Startup
            pool aiomysql.create_pool() line 62 in per_request: aiomysql MySQL, unbounded (`maxsize=0` means no limit in aiomysql), waits forever (aiomysql's `acquire()` takes no timeout and waits on the pool without one), PerCall
            pool redis.Redis() line 67 in cache: redis Redis, max 100 (`max_connections` not set: redis-py 8 default for a client's own pool), Factory
            pool ThreadedConnectionPool() line 76 in Repo.__init__ -> self.pool: psycopg2 PostgreSQL, max 8 (`maxconn=8`), Instance
            pool create_engine() line 80 in <module>: SQLAlchemy PostgreSQL, max 15 (`pool_size` not set: 5 + `max_overflow` not set: 10), Loop { at: Span { start: 1736, end: 1739 } }
            pool create_engine() line 83 in <module> -> HEX: SQLAlchemy PostgreSQL, max 26 (`pool_size=0x10` (16) + `max_overflow=1_0` (10)), Module
            pool ThreadedConnectionPool() line 84 in <module> -> NEG: psycopg2 PostgreSQL, max 5 (`maxconn=-(-5)` (5)), Module
            pool ThreadedConnectionPool() line 85 in <module> -> BIG: psycopg2 PostgreSQL, max unknown, Module
            pool ThreadedConnectionPool() line 86 in <module> -> DIV: psycopg2 PostgreSQL, max unknown, Module
            pool ThreadedConnectionPool() line 87 in <module> -> SPLAT: psycopg2 PostgreSQL, max unknown, Module
            pool create_engine() line 88 in <module> -> KW: SQLAlchemy PostgreSQL, max unknown, Module
            pool create_engine() line 89 in <module> -> NULLPOOL: SQLAlchemy PostgreSQL, max unknown, Module
            pool ThreadedConnectionPool() line 90 in <module> -> MAXED: psycopg2 PostgreSQL, max from $N (default Some(3)), Module
            pool ThreadedConnectionPool() line 91 in <module> -> SCALED: psycopg2 PostgreSQL, max from $N (default Some(6)), Module
            handler: returns a connection
              pool.getconn() line 35 [returned]
            make_engine: stores params [0]
            Repo.__init__: stores params [0]
        "#]],
    );
}

#[test]
fn a_finished_analysis_keeps_no_spare_room_in_its_lists() {
    // Lists grown by `push` hold room for 4 entries at least; an analysis is kept for the
    // whole run, so the front ends hand it back trimmed.
    let src = r#"
def leaky(pool, key):
    conn = pool.getconn()
    if key is None:
        return None
    pool.putconn(conn)

def nothing(pool):
    pool.putconn(pool.getconn())
"#;
    let analysis = analyze(Language::Python, src);
    assert!(!analysis.functions.is_empty());
    assert_eq!(analysis.functions.capacity(), analysis.functions.len());
    for f in &analysis.functions {
        assert_eq!(
            f.acquisitions.capacity(),
            f.acquisitions.len(),
            "{}",
            f.name
        );
        for a in &f.acquisitions {
            assert_eq!(a.leaks.capacity(), a.leaks.len(), "{}", f.name);
        }
    }
}

#[test]
fn connection_like_folds_ascii_case_as_a_lower_cased_copy_would() {
    let lowered = |attr: &str| {
        let a = attr.trim_start_matches('_').to_ascii_lowercase();
        super::CONN_PARTS.iter().any(|p| a.contains(p)) || super::CONN_WORDS.contains(&a.as_str())
    };
    for attr in [
        "conn",
        "_Conn",
        "__DB",
        "db",
        "dbs",
        "MyConnection",
        "SESSIONS",
        "sess",
        "Client",
        "clientele",
        "cnx",
        "_con",
        "icon",
        "İconn",
        "ßession",
        "Ｃonn",
        "",
        "_",
        "x_conn_y",
    ] {
        assert_eq!(super::connection_like(attr), lowered(attr), "{attr}");
    }
}

#[test]
fn words_read_by_blocks_are_the_words_read_byte_by_byte() {
    fn by_bytes(text: &str) -> Vec<(u32, &str)> {
        let bytes = text.as_bytes();
        let is_word = crate::prefilter::is_word_byte;
        let (mut out, mut i) = (Vec::new(), 0);
        while i < bytes.len() {
            if !is_word(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            out.push((start as u32, &text[start..i]));
        }
        out
    }
    let mut texts: Vec<String> = vec![
        String::new(),
        "x".into(),
        " ".into(),
        "def f(conn):\n    conn.close()  # é ok\n".into(),
        "ünïcode_names = 1; naïve(x)".into(),
        "a".repeat(64),
        "a".repeat(128),
        format!("{}a", " ".repeat(63)),
        format!("{}a ", " ".repeat(62)),
        format!("{} a", "b".repeat(63)),
    ];
    // Words and gaps of every length up to 70 around the 64-byte block edges.
    for word in [1usize, 2, 5, 63, 64, 65, 70] {
        for gap in [1usize, 2, 7, 63, 64] {
            for lead in [0usize, 1, 62, 63, 64, 65] {
                let mut t = " ".repeat(lead);
                for _ in 0..4 {
                    t.push_str(&"a".repeat(word));
                    t.push_str(&"(".repeat(gap));
                }
                texts.push(t.clone());
                t.push_str(&"é".repeat(word));
                texts.push(t);
            }
        }
    }
    for text in &texts {
        let blocks: Vec<(u32, &str)> = super::words(text).collect();
        assert_eq!(blocks, by_bytes(text), "{text:?}");
    }
}
