# The release sits in an exception handler only: the normal path (or a handler that
# returns) leaves the function with the connection still checked out.
# confirm: psycopg2-pool


# putconn() only runs when something fails; the successful `return` leaks the connection
def count_rows_release_in_except(pool):
    conn = pool.getconn()  # expect: CL001
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class")
            return cur.fetchone()[0]
    except Exception:
        pool.putconn(conn)
        raise


# the handler swallows the error and returns early, skipping the putconn() below
def count_rows_except_returns(pool):
    conn = pool.getconn()  # expect: CL001
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class")
            total = cur.fetchone()[0]
    except Exception:
        return None
    pool.putconn(conn)
    return total
