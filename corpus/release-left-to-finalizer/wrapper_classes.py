# Classes that own a pooled connection: callers that never close them leave the release to
# the garbage collector (`__del__`), which runs whenever it likes.
# confirm: psycopg2-pool
import weakref


class PooledDb:
    """Takes a connection in __init__, gives it back in close(); __del__ is a fallback."""

    def __init__(self, pool):
        self.pool = pool
        self.conn = pool.getconn()

    def close(self):
        if self.conn is not None:
            self.pool.putconn(self.conn)
            self.conn = None

    def __del__(self):
        self.close()


class ScopedDb:
    """Like PooledDb, and usable with `with`."""

    def __init__(self, pool):
        self.pool = pool
        self.conn = pool.getconn()

    def close(self):
        if self.conn is not None:
            self.pool.putconn(self.conn)
            self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class GcOnlyDb:
    """Gives the connection back only when it is collected."""

    def __init__(self, pool):
        self.pool = pool
        self.conn = pool.getconn()

    def __del__(self):  # expect: CL003
        self.pool.putconn(self.conn)


class FinalizedDb:
    """Registers the release with weakref.finalize and has no close()."""

    def __init__(self, pool):
        self.conn = pool.getconn()
        weakref.finalize(self, pool.putconn, self.conn)


# never closed: the connection comes back only when the object is collected
def count_tables(pool):
    db = PooledDb(pool)  # expect: CL003
    cur = db.conn.cursor()
    cur.execute("SELECT count(*) FROM pg_class")
    return cur.fetchone()[0]


# closed on the normal path only: a failing query leaves it to __del__
def count_tables_closed_late(pool):
    db = PooledDb(pool)  # expect: CL003
    cur = db.conn.cursor()
    cur.execute("SELECT count(*) FROM pg_class")
    n = cur.fetchone()[0]
    db.close()
    return n


# closed in `finally`
def count_tables_finally(pool):
    db = PooledDb(pool)
    try:
        cur = db.conn.cursor()
        cur.execute("SELECT count(*) FROM pg_class")
        return cur.fetchone()[0]
    finally:
        db.close()


# `with` runs __exit__, which closes; __del__ is only a fallback
def count_tables_with(pool):
    with ScopedDb(pool) as db:
        cur = db.conn.cursor()
        cur.execute("SELECT count(*) FROM pg_class")
        return cur.fetchone()[0]


# an object that can only be collected, never closed
def server_version(pool):
    db = GcOnlyDb(pool)  # expect: CL003
    return db.conn.server_version


# weakref.finalize is a finalizer too
def backend_pid(pool):
    db = FinalizedDb(pool)  # expect: CL003
    return db.conn.get_backend_pid()


# a factory returning the wrapper: the caller owns it and closes it
def open_db(pool):
    return PooledDb(pool)


def ping(pool):
    db = open_db(pool)
    try:
        db.conn.cursor().execute("SELECT 1")
    finally:
        db.close()


# the factory's result is never closed
def ping_forgetful(pool):
    db = open_db(pool)  # expect: CL003
    db.conn.cursor().execute("SELECT 1")
