# Handlers that give the connection back and re-raise: a narrow `except` leaves other
# exceptions without a release; `except Exception: pass` carries on to the release.
# confirm: psycopg2-pool
import psycopg2


# only IntegrityError gives the connection back; an OperationalError (or any other
# exception) skips both putconn() calls
def payload_size(pool, payload="x"):
    conn = pool.getconn()  # expect: CL002
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT length(%s)", (payload,))
            size = cur.fetchone()[0]
    except psycopg2.IntegrityError:
        pool.putconn(conn)
        raise
    pool.putconn(conn)
    return size


# `except BaseException` gives it back before re-raising, and the normal path after
def payload_size_all_paths(pool, payload="x"):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT length(%s)", (payload,))
            size = cur.fetchone()[0]
    except BaseException:
        pool.putconn(conn)
        raise
    pool.putconn(conn)
    return size


# `except Exception: pass` swallows the error and carries on to putconn()
def touch(pool):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception:
        pass
    pool.putconn(conn)
