# A class whose __init__ builds a pool: built per request it is a pool per request; built once
# (module level, or as a long-lived object whose methods run per request) it is fine.
# confirm: psycopg2-pool
import os

from psycopg2.pool import ThreadedConnectionPool


class Repo:
    def __init__(self, dsn):
        self.pool = ThreadedConnectionPool(1, 2, dsn)

    def count(self):
        conn = self.pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("select 1")
                return cur.fetchone()[0]
        finally:
            self.pool.putconn(conn)


SHARED = Repo(os.environ["DATABASE_URL"])


def handler(dsn):
    repo = Repo(dsn)  # expect: CL005
    return repo.count()


def handler_shared():
    return SHARED.count()
