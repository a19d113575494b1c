# Factories that hand back `(conn, cur)`: returning is a transfer, but the cursor() call
# before the return can raise while nobody owns the connection yet.
# confirm: psycopg2-pool


# if cursor() raises, the connection is neither returned nor given back
def open_cursor_unguarded(pool):
    conn = pool.getconn()  # expect: CL002
    cur = conn.cursor()
    return conn, cur


# gives the connection back if cursor() raises, otherwise transfers both to the caller
def open_cursor(pool):
    conn = pool.getconn()
    try:
        cur = conn.cursor()
    except BaseException:
        pool.putconn(conn)
        raise
    return conn, cur


# unpacks the factory's pair and gives the connection back in `finally`
def read_with_open_cursor(pool):
    conn, cur = open_cursor(pool)
    try:
        cur.execute("SELECT 1")
        return cur.fetchone()[0]
    finally:
        pool.putconn(conn)
