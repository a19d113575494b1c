# Retry loops around acquisition: a failed attempt's connection must be given back
# before the next attempt re-acquires into the same variable.
# confirm: psycopg2-pool
import time

import psycopg2


# when SET fails the handler retries: the next getconn() overwrites `conn` and the
# connection taken in the failed attempt is never given back
def fetch_with_session_timeout(pool, key=1):
    for attempt in range(3):
        try:
            conn = pool.getconn()  # expect: CL001
            conn.cursor().execute("SET statement_timeout = 5000")
            break
        except psycopg2.OperationalError:
            time.sleep(0.05 * attempt)
    else:
        raise RuntimeError("database unavailable")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT %s", (key,))
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


# every attempt gives its connection back in `finally` before retrying or returning
def fetch_with_retry(pool, key=1):
    for attempt in range(3):
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("SET statement_timeout = 5000")
                cur.execute("SELECT %s", (key,))
                return cur.fetchone()[0]
        except psycopg2.OperationalError:
            time.sleep(0.05 * attempt)
        finally:
            pool.putconn(conn)
    raise RuntimeError("database unavailable")
