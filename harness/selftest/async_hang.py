# An async function that never finishes while holding a pooled connection.
# confirm: asyncpg
import asyncio

import asyncpg


async def wait_forever(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
        await asyncio.sleep(3600)


async def released(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT 1")
