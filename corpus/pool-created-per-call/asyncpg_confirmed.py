# asyncpg: a pool per request against one built on the first request and kept.
# confirm: asyncpg
import os

import asyncpg

_pool = None


async def handle(dsn):
    async with asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool:  # expect: CL005
        async with pool.acquire() as conn:
            return await conn.fetchval("select 1")


async def get_pool():
    global _pool
    if _pool is None:
        _pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=2)
    return _pool


async def handle_shared():
    pool = await get_pool()
    async with pool.acquire() as conn:
        return await conn.fetchval("select 1")


async def handle_from(pool):
    async with pool.acquire() as conn:
        return await conn.fetchval("select 1")
