# Early exits from a function that holds a pooled connection: a `return` before putconn()
# leaks it, a `return` covered by `finally` does not. Also `return` inside `finally`.
# confirm: psycopg2-pool
import psycopg2


# the `return None` path leaves before putconn(): the connection stays checked out
def load_label(pool, key=0):
    conn = pool.getconn()  # expect: CL001
    cur = conn.cursor()
    cur.execute("SELECT NULLIF(%s, 0)", (key,))
    row = cur.fetchone()
    if row[0] is None:
        return None
    pool.putconn(conn)
    return row[0]


# both returns run the `finally`, so the connection goes back on every path
def load_label_released(pool, key=0):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT NULLIF(%s, 0)", (key,))
            row = cur.fetchone()
        if row[0] is None:
            return None
        return row[0]
    finally:
        pool.putconn(conn)


# `return False` inside `finally` swallows the error and exits before putconn()
def is_healthy(pool):
    conn = pool.getconn()  # expect: CL001
    healthy = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            healthy = True
    finally:
        if not healthy:
            return False
        pool.putconn(conn)
    return True


# the `return` inside `finally` comes after putconn(), so every path releases
def is_healthy_released(pool):
    conn = pool.getconn()
    healthy = False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            healthy = True
    except psycopg2.Error:
        healthy = False
    finally:
        pool.putconn(conn)
        return healthy
