# Shapes that exercise the flow engine: walrus, conditional acquisition, closures, storing
# calls, `return` in `finally`, `while ... else`, unpacking, and receivers that are not pools.
# confirm: psycopg2-pool
import socket
import threading


# the walrus binds the connection; the `is not None` test is always true for it
def walrus_guard(pool):
    if (conn := pool.getconn()) is not None:
        try:
            conn.cursor().execute("SELECT 1")
        finally:
            pool.putconn(conn)


# acquired on one branch only; the None-guarded release covers both
def maybe_connect(pool, flag=True):
    conn = pool.getconn() if flag else None
    try:
        if conn is not None:
            conn.cursor().execute("SELECT 1")
    finally:
        if conn:
            pool.putconn(conn)


# a cleanup closure takes the connection with it and releases it later
def deferred_release(pool, callbacks):
    conn = pool.getconn()

    def cleanup():
        pool.putconn(conn)

    callbacks.append(cleanup)
    return conn.cursor()


# `return` inside `finally` swallows the exception, but the release has already run
def swallow_in_finally(pool):
    conn = pool.getconn()
    try:
        conn.cursor().execute("SELECT 1 / 0")
    finally:
        pool.putconn(conn)
        return "done"


# `while ... else`: the early return inside the loop skips the release in `else`
def poll(pool, limit=3):
    conn = pool.getconn()  # expect: CL001
    tries = 0
    while tries < limit:
        tries += 1
        if tries == 2:
            return tries
    else:
        pool.putconn(conn)
    return 0


# unpacking makes `b` an alias; releasing it releases the connection
def unpack_alias(pool):
    a = pool.getconn()
    b, c = a, 1
    pool.putconn(b)
    return c


# a dict keeps the connection: the caller's cache owns it now
def cache_connection(pool, cache, key="k"):
    cache[key] = pool.getconn()


# a loop that releases every connection of the batch it took
def batch(pool):
    conns = [pool.getconn() for _ in range(2)]
    for c in conns:
        pool.putconn(c)


# a lock's acquire/release and a socket's connect are not connections from a pool
def not_pools(host="localhost"):
    lock = threading.Lock()
    lock.acquire()
    lock.release()
    s = socket.socket()
    try:
        s.connect((host, 9))
    except OSError:
        pass
    finally:
        s.close()


# the second getconn() overwrites the only name for the first connection
def overwrite(pool):
    conn = pool.getconn()  # expect: CL001
    conn = pool.getconn()
    pool.putconn(conn)


# a temporary used once and dropped
def temporary(pool):
    return pool.getconn().server_version  # expect: CL001


# released through an alias inside a `with` on the cursor
def alias_release(pool):
    conn = pool.getconn()
    c = conn
    try:
        with c.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        pool.putconn(c)
