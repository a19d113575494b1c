# Pools built on every call, in loops, and per key, next to the shapes that build one once.
# confirm: none
import functools

import aiomysql
import asyncpg
import psycopg2.pool
import redis
from sqlalchemy import create_engine


def count_users(dsn):
    pool = psycopg2.pool.SimpleConnectionPool(1, 5, dsn)  # expect: CL005
    conn = pool.getconn()
    try:
        return conn.cursor().execute("select count(*) from users")
    finally:
        pool.putconn(conn)


async def handle(request):
    async with asyncpg.create_pool(request.app["dsn"]) as pool:  # expect: CL005
        async with pool.acquire() as conn:
            return await conn.fetchval("select 1")


def rate_limited(user):
    # A client per call is a connection pool per call.
    client = redis.Redis(host="cache")  # expect: CL005
    return client.incr(f"hits:{user}")


def shared_client(pool, user):
    client = redis.Redis(connection_pool=pool)
    return client.incr(f"hits:{user}")


def migrate_all(urls):
    for url in urls:
        engine = create_engine(url)  # expect: CL005
        engine.dispose()


@functools.lru_cache(maxsize=None)
def engine_for(project):
    return create_engine(f"postgresql://db/{project}")  # expect: CL005


_POOLS = {}


def pool_for(tenant):
    if tenant not in _POOLS:
        _POOLS[tenant] = psycopg2.pool.ThreadedConnectionPool(1, 10, dbname=tenant)  # expect: CL005
    return _POOLS[tenant]


# Bound to a local first, then kept per key: still one pool per key (Django's pool per
# database alias has this shape).
def pool_for_alias(alias):
    if alias not in _POOLS:
        pool = psycopg2.pool.ThreadedConnectionPool(1, 10, dbname=alias)  # expect: CL005
        _POOLS.setdefault(alias, pool)
    return _POOLS[alias]


async def mysql_pool_for(key, pools):
    return pools.setdefault(key, await aiomysql.create_pool(maxsize=5))  # expect: CL005


# Returning a value computed from the engine is not returning the engine: one per iteration
# (sqlalchemy-utils' database_exists).
def first_reachable(url, names):
    for name in names:
        engine = create_engine(f"{url}/{name}")  # expect: CL005
        try:
            return probe(engine)
        finally:
            engine.dispose()
    return None


def probe(engine):
    return engine is not None
