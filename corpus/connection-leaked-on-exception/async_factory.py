# An `async def` that returns a pooled connection hands it over only when its call is
# awaited: if the awaited call raises, the caller holds nothing yet, so a `try` that starts
# right after it covers every path. Whatever is awaited between it and the `try` is not.
# confirm: asyncpg
import asyncpg


async def _checkout(pool: asyncpg.Pool):
    conn = await pool.acquire()
    try:
        await conn.execute("SELECT 1")
    except BaseException:
        await pool.release(conn)
        raise
    return conn


# Silent: released in the `finally` that starts right after the awaited call.
async def count_tables(pool: asyncpg.Pool):
    conn = await _checkout(pool)
    try:
        return await conn.fetchval("SELECT count(*) FROM pg_class")
    finally:
        await pool.release(conn)


# A query between the awaited call and the `try` can raise.
async def count_tables_late(pool: asyncpg.Pool):
    conn = await _checkout(pool)  # expect: CL002
    await conn.execute("SELECT 2")
    try:
        return await conn.fetchval("SELECT count(*) FROM pg_class")
    finally:
        await pool.release(conn)


class Tables:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def _checkout(self):
        return await self.pool.acquire()

    # Silent: the same through a method.
    async def count(self):
        conn = await self._checkout()
        try:
            return await conn.fetchval("SELECT count(*) FROM pg_class")
        finally:
            await self.pool.release(conn)
