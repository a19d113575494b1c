# Work placed between the acquisition and the `try` whose `finally` releases: if that work
# raises, the `finally` is never entered.
# confirm: psycopg2-pool
import logging

logger = logging.getLogger(__name__)


# SET runs before `try`: an error there (or in cursor()) skips the `finally`
def query_with_timeout(pool, key=1):
    conn = pool.getconn()  # expect: CL002
    conn.cursor().execute("SET statement_timeout = 5000")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT %s", (key,))
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


# the logging call between getconn() and `try` can raise too
def query_logged(pool, key=1):
    conn = pool.getconn()  # expect: CL002
    logger.info("checked out connection for key %s", key)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT %s", (key,))
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


# the SET is inside `try`, so the `finally` covers it
def query_with_timeout_released(pool, key=1):
    conn = pool.getconn()
    try:
        conn.cursor().execute("SET statement_timeout = 5000")
        with conn.cursor() as cur:
            cur.execute("SELECT %s", (key,))
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)
