# asyncpg: `await pool.acquire()` must be matched by `await pool.release(conn)` on every
# path; `async with pool.acquire()` releases even on an early return.
# confirm: asyncpg
import asyncpg


# the connection is acquired and never released
async def fetch_label(pool: asyncpg.Pool, key=1):
    conn = await pool.acquire()  # expect: CL001
    return await conn.fetchval("SELECT $1::text", str(key))


# the `return None` path leaves before release()
async def fetch_label_early_return(pool: asyncpg.Pool, key=0):
    conn = await pool.acquire()  # expect: CL001
    value = await conn.fetchval("SELECT NULLIF($1::int, 0)", key)
    if value is None:
        return None
    await pool.release(conn)
    return value


# an early return inside `async with` still releases the connection
async def fetch_label_async_with(pool: asyncpg.Pool, key=0):
    async with pool.acquire() as conn:
        value = await conn.fetchval("SELECT NULLIF($1::int, 0)", key)
        if value is None:
            return None
        return value
