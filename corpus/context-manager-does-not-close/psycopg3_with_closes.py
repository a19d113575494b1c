# psycopg 3 (not psycopg2): `with conn:` commits and then closes a non-pooled connection.
# confirm: psycopg-pool
import psycopg


# `with psycopg.connect()` closes the connection on exit
def current_user(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT current_user").fetchone()[0]


# `with conn:` on a psycopg 3 connection opened first closes it too
def current_user_opened_first(dsn):
    conn = psycopg.connect(dsn)
    with conn:
        return conn.execute("SELECT current_user").fetchone()[0]
