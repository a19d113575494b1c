# Release placed in `else` (success only) versus `finally`, plus a nested try/finally.
# confirm: psycopg2-pool
import psycopg2


# putconn() in `else` runs only when the body succeeds; the handler re-raises without it
def read_answer(pool):
    conn = pool.getconn()  # expect: CL002
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 42")
            value = cur.fetchone()[0]
    except psycopg2.Error:
        conn.rollback()
        raise
    else:
        pool.putconn(conn)
    return value


# try/except/else/finally: the `finally` gives it back whichever branch ran
def read_answer_released(pool):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 42")
            value = cur.fetchone()[0]
    except psycopg2.Error:
        conn.rollback()
        raise
    else:
        conn.commit()
        return value
    finally:
        pool.putconn(conn)


# nested try/finally: the inner one closes the cursor, the outer one releases
def read_answer_nested(pool):
    conn = pool.getconn()
    try:
        cur = conn.cursor()
        try:
            cur.execute("SELECT 42")
            return cur.fetchone()[0]
        finally:
            cur.close()
    finally:
        pool.putconn(conn)
