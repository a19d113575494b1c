# A psycopg2 pool under every rule: a normal-path leak is reported once (CL001, not also
# CL002); a success-path-only release is CL002.
# confirm: psycopg2-pool


# returns the connection: a factory
def _checkout(pool):
    return pool.getconn()


# the early return leaks on a normal path, so CL001 only, even though errors leak it too
def load_flag(pool, key=0):
    conn = pool.getconn()  # expect: CL001
    cur = conn.cursor()
    cur.execute("SELECT NULLIF(%s, 0)", (key,))
    value = cur.fetchone()[0]
    if value is None:
        return False
    pool.putconn(conn)
    return True


# released on every normal path, but not when the query raises
def load_value(pool, key=1):
    conn = pool.getconn()  # expect: CL002
    cur = conn.cursor()
    cur.execute("SELECT %s", (key,))
    value = cur.fetchone()[0]
    pool.putconn(conn)
    return value


# the caller of the factory never gives the connection back
def load_value_from_factory(pool, key=1):
    conn = _checkout(pool)  # expect: CL001
    with conn.cursor() as cur:
        cur.execute("SELECT %s", (key,))
        return cur.fetchone()[0]
