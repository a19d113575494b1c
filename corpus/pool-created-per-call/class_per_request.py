# A class whose __init__ builds a pool: every instance has its own, so building instances per
# request builds pools per request. Kept once (module level, start-up, on another long-lived
# object) it is fine.
# confirm: none
from psycopg2.pool import ThreadedConnectionPool


class Repo:
    def __init__(self, dsn):
        self.pool = ThreadedConnectionPool(1, 10, dsn)

    def count(self):
        conn = self.pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("select count(*) from orders")
                return cur.fetchone()[0]
        finally:
            self.pool.putconn(conn)


SHARED = Repo("dbname=app")


def handler(request):
    repo = Repo("dbname=app")  # expect: CL005
    return repo.count()


def handler_shared(request):
    return SHARED.count()


def main():
    repo = Repo("dbname=app")
    serve(repo)


class Service:
    def __init__(self, dsn):
        self.repo = Repo(dsn)


def serve(repo):
    return repo
