# @contextmanager generators lend the connection to the with-body at `yield`; with no
# release after the `yield` the connection never goes back.
# confirm: psycopg2-pool
from contextlib import contextmanager


# nothing after `yield` gives the connection back, even when the with-body succeeds
@contextmanager
def borrow_forever(pool):
    conn = pool.getconn()  # expect: CL001
    yield conn


# try/finally around `yield` gives it back whether the with-body succeeds or raises
@contextmanager
def borrow(pool):
    conn = pool.getconn()
    try:
        yield conn
    finally:
        pool.putconn(conn)


# the with-body only borrows the connection: borrow() owns it
def read_with_borrow(pool):
    with borrow(pool) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone()[0]


# the with-body only borrows the connection: the leak is in borrow_forever() itself
def read_with_borrow_forever(pool):
    with borrow_forever(pool) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone()[0]
