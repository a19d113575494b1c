# `break` and `continue` in loops that acquire a connection per iteration, including a
# `while True:` loop that is only left by `break`.
# confirm: psycopg2-pool
import time


# `break` leaves the loop with the matching iteration's connection still checked out
def find_first_even(pool, keys=(1, 2, 3)):
    found = None
    for key in keys:
        conn = pool.getconn()  # expect: CL001
        cur = conn.cursor()
        cur.execute("SELECT %s %% 2 = 0", (key,))
        if cur.fetchone()[0]:
            found = key
            break
        pool.putconn(conn)
    return found


# the `while True:` loop is left by `break` before the last connection is given back
def wait_until_primary(pool, max_polls=3):
    polls = 0
    while True:
        conn = pool.getconn()  # expect: CL001
        cur = conn.cursor()
        cur.execute("SELECT pg_is_in_recovery()")
        polls += 1
        if not cur.fetchone()[0] or polls >= max_polls:
            break
        pool.putconn(conn)
        time.sleep(0.01)
    return polls


# `continue` and `break` inside try/finally both run the `finally` first
def first_nonzero(pool, keys=(0, 1, 2)):
    for key in keys:
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT NULLIF(%s, 0)", (key,))
                value = cur.fetchone()[0]
            if value is None:
                continue
            break
        finally:
            pool.putconn(conn)
    else:
        return None
    return value


# `while True:` exited by `break` while the connection is covered by `finally`
def drain_in_batches(pool, batch=100):
    total = 0
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT generate_series(1, 250)")
            while True:
                rows = cur.fetchmany(batch)
                if not rows:
                    break
                total += len(rows)
    finally:
        pool.putconn(conn)
    return total
