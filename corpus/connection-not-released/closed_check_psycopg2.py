# `if not conn.closed: conn.close()` closes every connection still open: where `closed` is
# true there is nothing left to close.
# confirm: psycopg2
import psycopg2


# Silent.
def count_tables(dsn):
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_class")
        return cur.fetchone()[0]
    finally:
        if not conn.closed:
            conn.close()


# Silent: not connected at all, or connected and still open, it is closed.
def count_tables_maybe(dsn):
    conn = None
    try:
        conn = psycopg2.connect(dsn)
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_class")
        return cur.fetchone()[0]
    finally:
        if conn is not None and not conn.closed:
            conn.close()


# The test is the wrong way round: an open connection is never closed.
def count_tables_inverted(dsn):
    conn = psycopg2.connect(dsn)  # expect: CL001
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_class")
        return cur.fetchone()[0]
    finally:
        if conn.closed:
            conn.close()
