# An async wrapper around a pooled asyncpg connection: `async with` gives it back through
# __aexit__, close() in `finally` does too; a caller that does neither leaks it. (No __del__:
# one could only schedule the release as a task, which nothing guarantees will run.)
# confirm: asyncpg
import asyncpg


class AsyncDb:
    def __init__(self, pool: asyncpg.Pool, conn):
        self.pool = pool
        self.conn = conn

    @classmethod
    async def open(cls, pool: asyncpg.Pool):
        return cls(pool, await pool.acquire(timeout=5))

    async def close(self):
        if self.conn is not None:
            await self.pool.release(self.conn)
            self.conn = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()


# `async with` releases on every path
async def table_count(pool: asyncpg.Pool):
    async with AsyncDb(pool, await pool.acquire(timeout=5)) as db:
        return await db.conn.fetchval("SELECT count(*) FROM pg_class")


# closed in `finally`
async def table_count_finally(pool: asyncpg.Pool):
    db = AsyncDb(pool, await pool.acquire(timeout=5))
    try:
        return await db.conn.fetchval("SELECT count(*) FROM pg_class")
    finally:
        await db.close()


# never closed
async def table_count_forgetful(pool: asyncpg.Pool):
    db = AsyncDb(pool, await pool.acquire(timeout=5))  # expect: CL001
    return await db.conn.fetchval("SELECT count(*) FROM pg_class")
