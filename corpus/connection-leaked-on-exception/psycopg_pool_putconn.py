# psycopg_pool: putconn() after the success path versus `with pool.connection()`.
# confirm: psycopg-pool
from psycopg_pool import ConnectionPool


# putconn() is skipped when execute() or fetchone() raises
def lookup(pool: ConnectionPool, key=1):
    conn = pool.getconn()  # expect: CL002
    row = conn.execute("SELECT %s::int", (key,)).fetchone()
    pool.putconn(conn)
    return row[0]


# `with pool.connection()` returns the connection whether the body succeeds or raises
def lookup_with_block(pool: ConnectionPool, key=1):
    with pool.connection() as conn:
        return conn.execute("SELECT %s::int", (key,)).fetchone()[0]


# getconn()/putconn() with the release in `finally`
def lookup_released(pool: ConnectionPool, key=1):
    conn = pool.getconn()
    try:
        return conn.execute("SELECT %s::int", (key,)).fetchone()[0]
    finally:
        pool.putconn(conn)
