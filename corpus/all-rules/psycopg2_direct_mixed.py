# Direct psycopg2 connections under every rule: a close() after `with conn:` is only
# connection-leaked-on-exception; no close() at all is only context-manager-does-not-close.
# confirm: psycopg2
import psycopg2


# closed on the normal path, but an error in the block skips close(): CL002, not CL008
def current_user_then_close(dsn):
    with psycopg2.connect(dsn) as conn:  # expect: CL002
        with conn.cursor() as cur:
            cur.execute("SELECT current_user")
            user = cur.fetchone()[0]
    conn.close()
    return user


# never closed after the transaction block: CL008 only, not also CL001
def current_user_never_closed(dsn):
    with psycopg2.connect(dsn) as conn:  # expect: CL008
        with conn.cursor() as cur:
            cur.execute("SELECT current_user")
            return cur.fetchone()[0]


# no `with` at all and the early return skips close(): CL001 only
def lookup(dsn, key=0):
    conn = psycopg2.connect(dsn)  # expect: CL001
    cur = conn.cursor()
    cur.execute("SELECT NULLIF(%s, 0)", (key,))
    value = cur.fetchone()[0]
    if value is None:
        return None
    conn.close()
    return value


# transaction block inside try/finally with close(): correct under every rule
def current_user_closed(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT current_user")
            return cur.fetchone()[0]
    finally:
        conn.close()
