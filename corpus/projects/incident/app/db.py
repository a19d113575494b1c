# The adapter holds the pool; get_connection() retries a setup query and loses the connection
# of a failed attempt; Wrapped returns it in close() and, as a fallback, in __del__.
# confirm: none
import time

import psycopg2
from psycopg2.pool import ThreadedConnectionPool


class Adapter:
    def __init__(self, dsn, maxconn=5):
        self.pool = ThreadedConnectionPool(1, maxconn, dsn)

    def get_connection(self, retries=3):
        for attempt in range(retries):
            try:
                # the failed attempt's connection is never given back before the next getconn()
                conn = self.pool.getconn()  # expect: CL001
                conn.cursor().execute("SET statement_timeout = 5000")
                return conn
            except psycopg2.OperationalError:
                time.sleep(0.05 * attempt)
        raise RuntimeError("database unavailable")

    def release_connection(self, conn):
        self.pool.putconn(conn)


class Wrapped:
    def __init__(self, adapter, conn):
        self.adapter = adapter
        self.conn = conn

    def cursor(self):
        return self.conn.cursor()

    def close(self):
        if self.conn is not None:
            self.adapter.release_connection(self.conn)
            self.conn = None

    def __del__(self):
        self.close()


_ADAPTERS = {}


def _adapter_for(project):
    if project not in _ADAPTERS:
        # one Adapter, and so one pool, per project: the other half of the incident
        _ADAPTERS[project] = Adapter(f"dbname={project}")  # expect: CL005
    return _ADAPTERS[project]


def get_db():
    return _get_db_for_project("app")


def _get_db_for_project(project):
    adapter = _adapter_for(project)
    return Wrapped(adapter, adapter.get_connection())
