# In a @contextmanager generator the with-body's exception is raised at `yield`: a release
# after `yield` that is not in `finally` is skipped when the body raises.
# confirm: psycopg2-pool
from contextlib import contextmanager


# putconn() after `yield` never runs when the with-body raises
@contextmanager
def transaction(pool):
    conn = pool.getconn()  # expect: CL002
    yield conn
    pool.putconn(conn)


# try/finally around `yield` releases whether the with-body succeeds or raises
@contextmanager
def transaction_released(pool):
    conn = pool.getconn()
    try:
        yield conn
        conn.commit()
    finally:
        pool.putconn(conn)


# borrows from transaction(); the leak on a failing body is transaction()'s
def bump_in_transaction(pool):
    with transaction(pool) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")


# borrows from transaction_released()
def bump_in_transaction_released(pool):
    with transaction_released(pool) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
