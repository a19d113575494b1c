# Connections lost by re-assignment or used as a temporary, versus connections released
# through an alias or after tuple unpacking.
# confirm: psycopg2-pool


# the second getconn() overwrites `conn`: the first connection is never given back
def copy_timezone(pool):
    conn = pool.getconn()  # expect: CL001
    with conn.cursor() as cur:
        cur.execute("SHOW timezone")
        tz = cur.fetchone()[0]
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('timezone', %s, false)", (tz,))
    finally:
        pool.putconn(conn)
    return tz


# the connection is only a temporary: nothing keeps a handle to give it back
def ping(pool):
    cur = pool.getconn().cursor()  # expect: CL001
    cur.execute("SELECT 1")
    return cur.fetchone()[0] == 1


# `c` is the same connection as `conn`, and `c` is given back in `finally`
def release_through_alias(pool, key=1):
    conn = pool.getconn()
    c = conn
    try:
        with c.cursor() as cur:
            cur.execute("SELECT %s", (key,))
            return cur.fetchone()[0]
    finally:
        pool.putconn(c)


# tuple unpacking binds `held` to the connection, and `held` is given back in `finally`
def release_after_tuple_unpack(pool, label="report"):
    conn = pool.getconn()
    held, name = conn, label
    try:
        with held.cursor() as cur:
            cur.execute("SELECT %s", (name,))
            return cur.fetchone()[0]
    finally:
        pool.putconn(held)
