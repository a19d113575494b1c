# A chained assignment gives every target the same connection: stored through one target it
# is handed over, closed through another it is released, and kept by neither it leaks.
# confirm: psycopg2
import psycopg2


# Silent: handed to the caller inside the record.
def open_record(dsn):
    rec = {}
    rec["connection"] = conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return rec


# Silent: closed through the other name.
def closed_through_alias(dsn):
    conn = current = psycopg2.connect(dsn)
    try:
        current.cursor().execute("SELECT 1")
    finally:
        conn.close()


def never_closed(dsn):
    conn = current = psycopg2.connect(dsn)  # expect: CL001
    current.cursor().execute("SELECT 1")
    return conn.server_version
