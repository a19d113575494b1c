# A function in the same file that returns a fresh connection is a factory: its callers
# own the result and must give it back.
# confirm: psycopg2-pool


# returns the connection to the caller: a transfer, not a leak
def _checkout(pool):
    conn = pool.getconn()
    return conn


# the caller gets a fresh connection from _checkout() and never gives it back
def count_relations(pool):
    conn = _checkout(pool)  # expect: CL001
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_class")
        return cur.fetchone()[0]


# the caller gives the factory's connection back in `finally`
def count_relations_released(pool):
    conn = _checkout(pool)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class")
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


# the caller passes the factory's connection on to its own caller
def checkout_for_caller(pool):
    return _checkout(pool)
