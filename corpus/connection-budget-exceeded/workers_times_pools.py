# One service with three pools of the same PostgreSQL: 60 + 30 + 20 = 110 > 100, whatever
# the number of processes. Every contributing pool is reported, with the sum.
# confirm: none
import asyncpg
import psycopg2.pool
import redis
from sqlalchemy import create_engine

ENGINE = create_engine("postgresql://app@db/app", pool_size=40, max_overflow=20)  # expect: CL011
REPORTS = psycopg2.pool.ThreadedConnectionPool(2, 30, "dbname=app")  # expect: CL011

# Redis and SQLite slots are not PostgreSQL's: not counted.
CACHE = redis.ConnectionPool(max_connections=500)
LOCAL = create_engine("sqlite:///cache.db")


async def startup(app):
    app["pg"] = await asyncpg.create_pool("postgresql://app@db/app", max_size=20)  # expect: CL011


def unknown(settings):
    # Size not computable: left out of the sum.
    return create_engine(settings.url, pool_size=settings.size)
