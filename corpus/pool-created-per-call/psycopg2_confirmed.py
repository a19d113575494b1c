# Pools built per call and pools built once, against psycopg2: the harness calls each function
# several times in one process and counts the server connections the calls open.
# confirm: psycopg2-pool
import functools
import os

import psycopg2.pool

SHARED = psycopg2.pool.ThreadedConnectionPool(1, 4, os.environ["DATABASE_URL"])

_pool = None


def count_users(dsn):
    pool = psycopg2.pool.SimpleConnectionPool(1, 5, dsn)  # expect: CL005
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


def count_users_closed(dsn):
    # Closed on every call, and still built on every call.
    pool = psycopg2.pool.ThreadedConnectionPool(1, 2, dsn)  # expect: CL005
    try:
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("select 1")
                return cur.fetchone()[0]
        finally:
            pool.putconn(conn)
    finally:
        pool.closeall()


def get_pool():
    global _pool
    if _pool is None:
        _pool = psycopg2.pool.ThreadedConnectionPool(1, 4, os.environ["DATABASE_URL"])
    return _pool


@functools.lru_cache(maxsize=1)
def default_pool():
    return psycopg2.pool.ThreadedConnectionPool(1, 4, os.environ["DATABASE_URL"])


def _one(pool):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


def handler_singleton():
    return _one(get_pool())


def handler_cached():
    return _one(default_pool())


def handler_module_level():
    return _one(SHARED)


def handler_shared(pool):
    # Acquires from the application's pool, built once at start-up.
    return _one(pool)


def make_pool(dsn):
    # A factory: the caller keeps the pool and decides how often to build one.
    return psycopg2.pool.ThreadedConnectionPool(1, 2, dsn)
