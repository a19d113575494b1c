# asyncpg's acquire() waits forever for a free connection unless the call passes timeout=.
# confirm: none
import asyncio

import asyncpg


async def scoped(pool: asyncpg.Pool):
    async with pool.acquire() as conn:  # expect: CL012
        return await conn.fetchval("select 1")


async def explicit(pool: asyncpg.Pool):
    conn = await pool.acquire()  # expect: CL012
    try:
        return await conn.fetchval("select 1")
    finally:
        await pool.release(conn)


async def explicit_none(pool: asyncpg.Pool):
    async with pool.acquire(timeout=None) as conn:  # expect: CL012
        return await conn.fetchval("select 1")


async def bounded(pool: asyncpg.Pool):
    async with pool.acquire(timeout=5) as conn:
        return await conn.fetchval("select 1")


async def bounded_by_setting(pool: asyncpg.Pool, settings):
    conn = await pool.acquire(timeout=settings.acquire_timeout)
    try:
        return await conn.fetchval("select 1")
    finally:
        await pool.release(conn)


async def forwarded(pool: asyncpg.Pool, **options):
    async with pool.acquire(**options) as conn:
        return await conn.fetchval("select 1")


async def direct(dsn):
    # Not a pool: connect() has its own timeout (60 s by default).
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("select 1")
    finally:
        await conn.close()


async def under_a_deadline(pool: asyncpg.Pool):
    # A deadline around the whole request is not seen.
    async with asyncio.timeout(5):
        async with pool.acquire() as conn:  # expect-spurious: CL012
            return await conn.fetchval("select 1")


async def wrapped_in_wait_for(pool: asyncpg.Pool):
    conn = await asyncio.wait_for(pool.acquire(), 5)
    try:
        return await conn.fetchval("select 1")
    finally:
        await pool.release(conn)
