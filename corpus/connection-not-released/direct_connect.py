# A direct psycopg2 connection (no pool) must be closed: one that is never closed leaks,
# one closed in `finally` does not.
# confirm: psycopg2
import psycopg2


# the connection is never closed
def server_version(dsn):
    conn = psycopg2.connect(dsn)  # expect: CL001
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        return cur.fetchone()[0]


# the connection is closed in `finally`
def server_version_closed(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            return cur.fetchone()[0]
    finally:
        conn.close()
