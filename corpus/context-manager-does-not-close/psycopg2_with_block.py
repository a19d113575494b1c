# psycopg2: `with conn:` ends the transaction, it does not close the connection (unlike
# psycopg 3). The documented fix is try/finally with conn.close().
# confirm: psycopg2
import psycopg2


# the block commits, then leaves the connection open
def record_action(dsn, action="login"):
    with psycopg2.connect(dsn) as conn:  # expect: CL008
        with conn.cursor() as cur:
            cur.execute("SELECT %s", (action,))


# connection and cursor in one `with`: only the cursor is closed
def current_user(dsn):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:  # expect: CL008
        cur.execute("SELECT current_user")
        return cur.fetchone()[0]


# returning from inside `with conn:` still only ends the transaction
def database_name(dsn):
    conn = psycopg2.connect(dsn)  # expect: CL008
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT current_database()")
            row = cur.fetchone()
        if row is None:
            return None
        return row[0]


# `with conn:` for the transaction, close() in `finally` for the connection
def current_user_closed(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT current_user")
            return cur.fetchone()[0]
    finally:
        conn.close()


# closed after the block on the normal path: not this rule (an error in the block
# skipping close() is connection-leaked-on-exception)
def current_user_then_close(dsn):
    with psycopg2.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user")
            user = cur.fetchone()[0]
    conn.close()
    return user
