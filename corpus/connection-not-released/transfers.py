# Ownership handed on instead of released: stored on `self`, in a module-level registry,
# in a wrapper object, or yielded by a plain generator. None of these is a leak here.
# confirm: psycopg2-pool

_checked_out = {}


# the connection is stored on `self` in __init__; close() gives it back
class Repository:
    def __init__(self, pool):
        self.pool = pool
        self.conn = pool.getconn()

    def close(self):
        self.pool.putconn(self.conn)


# the connection is stored in a module-level registry that release_for() empties
def checkout_for(pool, owner="job-1"):
    _checked_out[owner] = pool.getconn()


# gives back what checkout_for() stored
def release_for(pool, owner="job-1"):
    pool.putconn(_checked_out.pop(owner))


# the wrapper takes ownership of the connection and gives it back in finish()
class UnitOfWork:
    def __init__(self, pool, conn):
        self.pool = pool
        self.conn = conn

    def finish(self):
        try:
            self.conn.commit()
        finally:
            self.pool.putconn(self.conn)


# passing the fresh connection to the wrapper's constructor transfers it
def begin_unit_of_work(pool):
    conn = pool.getconn()
    return UnitOfWork(pool, conn)


# a plain generator hands each connection to its consumer, which owns it from then on
def checkouts(pool, n=2):
    for _ in range(n):
        conn = pool.getconn()
        yield conn
