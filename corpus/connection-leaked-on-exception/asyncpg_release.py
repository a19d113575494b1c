# asyncpg: `await pool.release(conn)` after the success path is skipped when a query
# raises or the task is cancelled at an `await`; `finally` is the fix.
# confirm: asyncpg
from contextlib import asynccontextmanager

import asyncpg


# release() runs only if fetchval() succeeds and the task is not cancelled meanwhile
async def fetch_total(pool: asyncpg.Pool):
    conn = await pool.acquire()  # expect: CL002
    total = await conn.fetchval("SELECT count(*) FROM pg_class")
    await pool.release(conn)
    return total


# release() in `finally`
async def fetch_total_released(pool: asyncpg.Pool):
    conn = await pool.acquire()
    try:
        return await conn.fetchval("SELECT count(*) FROM pg_class")
    finally:
        await pool.release(conn)


# the with-body's exception is raised at `yield`, skipping release()
@asynccontextmanager
async def borrowed(pool: asyncpg.Pool):
    conn = await pool.acquire()  # expect: CL002
    yield conn
    await pool.release(conn)


# borrows from borrowed(); the leak on a failing body is borrowed()'s
async def fetch_total_borrowed(pool: asyncpg.Pool):
    async with borrowed(pool) as conn:
        return await conn.fetchval("SELECT count(*) FROM pg_class")
