# psycopg_pool: getconn() needs a putconn() on every path; `with pool.connection()`
# returns the connection even on an early return.
# confirm: psycopg-pool
from psycopg_pool import ConnectionPool


# the `return None` path skips putconn(): the pool slot stays counted as in use
def lookup(pool: ConnectionPool, key=0):
    conn = pool.getconn()  # expect: CL001
    row = conn.execute("SELECT NULLIF(%s::int, 0)", (key,)).fetchone()
    if row[0] is None:
        return None
    pool.putconn(conn)
    return row[0]


# an early return inside `with pool.connection()` still returns the connection
def lookup_with_block(pool: ConnectionPool, key=0):
    with pool.connection() as conn:
        row = conn.execute("SELECT NULLIF(%s::int, 0)", (key,)).fetchone()
        if row[0] is None:
            return None
        return row[0]
