# asyncpg under every rule: acquisitions carry a timeout and no unrelated await happens
# while a connection is held, so only the release placement matters.
# confirm: asyncpg
import asyncpg


# release() after the success path: a failing fetchval() or a cancellation skips it
async def fetch_total(pool: asyncpg.Pool):
    conn = await pool.acquire(timeout=5)  # expect: CL002
    total = await conn.fetchval("SELECT count(*) FROM pg_class")
    await pool.release(conn)
    return total


# `async with pool.acquire()` releases on every exit
async def fetch_total_async_with(pool: asyncpg.Pool):
    async with pool.acquire(timeout=5) as conn:
        return await conn.fetchval("SELECT count(*) FROM pg_class")
