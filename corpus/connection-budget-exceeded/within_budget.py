# Pools that fit: 15 + 10 + 10 = 35 <= 100, and a MySQL pool counted apart.
# confirm: none
import aiomysql
import asyncpg
import psycopg2.pool
from sqlalchemy import create_engine

ENGINE = create_engine("postgresql://app@db/app", pool_size=10, max_overflow=5)
REPORTS = psycopg2.pool.ThreadedConnectionPool(1, 10, "dbname=app")


async def startup(app):
    app["pg"] = await asyncpg.create_pool("postgresql://app@db/app")
    app["mysql"] = await aiomysql.create_pool(maxsize=90)


def handler(app):
    return app["pg"]
