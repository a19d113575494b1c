# `own_conn = True` right after the connection is made says whether this function made it: a
# `finally` that closes only what it owns closes every connection it made. A connection made
# without setting the flag, or a flag cleared while the connection is open, still counts.
# confirm: psycopg2
import psycopg2


# Silent: closes the connection it made, not one it was given.
def run_script(dsn, sql="SELECT 1", conn=None):
    own_conn = False
    if conn is None:
        conn = psycopg2.connect(dsn)
        own_conn = True
    try:
        conn.cursor().execute(sql)
    finally:
        if own_conn and conn is not None:
            conn.close()


# The flag is cleared while the connection is still open: it is never closed.
def run_script_cleared(dsn, sql="SELECT 1"):
    conn = psycopg2.connect(dsn)  # expect: CL001
    own_conn = True
    own_conn = False
    try:
        conn.cursor().execute(sql)
    finally:
        if own_conn:
            conn.close()


# The second connection is made without setting the flag: it is never closed.
def run_script_unflagged(dsn, sql="SELECT 1", fresh=False):
    own_conn = False
    if fresh:
        conn = psycopg2.connect(dsn)
        own_conn = True
    else:
        conn = psycopg2.connect(dsn)  # expect: CL001
    try:
        conn.cursor().execute(sql)
    finally:
        if own_conn:
            conn.close()
