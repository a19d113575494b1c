# `with conn:` on a connection taken from a pool with getconn() only ends the transaction:
# psycopg_pool does not return it, and neither does psycopg2.
# confirm: psycopg-pool


# the block commits; the connection stays checked out of the pool
def insert_pooled(pool, value=1):
    conn = pool.getconn()  # expect: CL008
    with conn:
        conn.execute("SELECT %s", (value,))


# the block commits and `finally` gives the connection back
def insert_pooled_returned(pool, value=1):
    conn = pool.getconn()
    try:
        with conn:
            conn.execute("SELECT %s", (value,))
    finally:
        pool.putconn(conn)


# pool.connection() returns it when the block ends
def insert_pool_connection(pool, value=1):
    with pool.connection() as conn:
        conn.execute("SELECT %s", (value,))
