# Pools whose callers wait forever once every connection is in use, and their fixes.
# confirm: none
import aiomysql
import psycopg2
import redis
from dbutils.pooled_db import PooledDB

BLOCKING = PooledDB(psycopg2, maxconnections=10, blocking=True)  # expect: CL010
FAILS_FAST = PooledDB(psycopg2, maxconnections=10, blocking=False)
DEFAULT_BLOCKING = PooledDB(psycopg2, maxconnections=10)

QUEUE = redis.BlockingConnectionPool(max_connections=20, timeout=None)  # expect: CL010
QUEUE_WITH_TIMEOUT = redis.BlockingConnectionPool(max_connections=20, timeout=5)
QUEUE_DEFAULT = redis.BlockingConnectionPool(max_connections=20)


async def start(app):
    # aiomysql's acquire() takes no timeout: every aiomysql pool waits forever.
    app["mysql"] = await aiomysql.create_pool(maxsize=10)  # expect: CL010


async def fetch(pool):
    async with pool.acquire() as conn:
        async with conn.cursor() as cur:
            await cur.execute("select 1")
            return await cur.fetchone()
