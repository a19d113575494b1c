# psycopg 3 pools: one per call (opened and closed by `with` on every call) against one built
# once behind a guard.
# confirm: psycopg-pool
import os

from psycopg_pool import ConnectionPool

_pool = None


def fetch_one(dsn):
    with ConnectionPool(dsn, min_size=1, max_size=2) as pool:  # expect: CL005
        with pool.connection() as conn:
            return conn.execute("select 1").fetchone()[0]


def get_pool():
    global _pool
    if _pool is None:
        _pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=1, max_size=2, open=True)
    return _pool


def fetch_one_shared():
    with get_pool().connection() as conn:
        return conn.execute("select 1").fetchone()[0]


def fetch_one_from(pool):
    with pool.connection() as conn:
        return conn.execute("select 1").fetchone()[0]
