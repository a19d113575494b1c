# The shapes that build a pool once per process (or hand it to a caller): all silent.
# confirm: none
import contextlib
import functools

import asyncpg
import psycopg2.pool
from psycopg_pool import ConnectionPool
from sqlalchemy import create_engine

ENGINE = create_engine("postgresql://db/app", pool_size=5)

_pool = None


def get_pool():
    global _pool
    if _pool is None:
        _pool = psycopg2.pool.ThreadedConnectionPool(1, 10, "dbname=app")
    return _pool


@functools.lru_cache(maxsize=1)
def default_engine():
    return create_engine("postgresql://db/app")


def make_engine(url):
    # A factory: the caller decides how often.
    return create_engine(url, pool_size=5)


def make_pool(dsn):
    pool = ConnectionPool(dsn, max_size=10)
    pool.wait()
    return pool


class Repository:
    def __init__(self, dsn):
        self.pool = psycopg2.pool.ThreadedConnectionPool(1, 5, dsn)


# Bound to a local first, then kept on the instance or the class: the same as storing it
# directly.
class TwoStepRepository:
    def __init__(self, dsn):
        pool = ConnectionPool(dsn, max_size=5, timeout=10)
        pool.wait()
        self.pool = pool


class Registry:
    pool = None

    @classmethod
    def configure(cls, dsn):
        pool = ConnectionPool(dsn, max_size=5, timeout=10)
        cls.pool = pool


async def startup(app):
    app.state.pool = await asyncpg.create_pool("postgresql://db/app")


@contextlib.asynccontextmanager
async def lifespan(app):
    async with asyncpg.create_pool("postgresql://db/app") as pool:
        app.state.pool = pool
        yield


def main():
    engine = create_engine("postgresql://db/app")
    with engine.connect() as conn:
        conn.exec_driver_sql("select 1")


# A retry loop: the engine returned from inside the loop is the one kept, as a factory's.
def engine_with_retry(url, attempts=3):
    while True:
        engine = create_engine(url, pool_size=5)
        try:
            with engine.connect():
                return engine
        except OSError:
            attempts -= 1
            if attempts == 0:
                raise


# A command-line entry point runs once per process, as `main` does.
def cli():
    engine = create_engine("postgresql://db/app", pool_size=2)
    with engine.connect() as conn:
        conn.exec_driver_sql("select 1")
    engine.dispose()
