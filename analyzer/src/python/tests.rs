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
            problem (line 1): syntax error: missing `)`; functions containing it are not analysed
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
