# Pooled connections kept checked out while the coroutine awaits slow work that does not use them.
# confirm: none
import asyncio

import aiohttp
import asyncpg
import httpx


async def sleep_while_held(pool: asyncpg.Pool):
    async with pool.acquire() as conn:  # expect: CL006
        await conn.execute("select 1")
        await asyncio.sleep(0.5)
        await conn.execute("select 2")


async def http_while_held(pool: asyncpg.Pool, client: httpx.AsyncClient):
    conn = await pool.acquire()  # expect: CL006
    try:
        response = await client.get("https://example.com")
        await conn.execute("insert into pages (body) values ($1)", response.text)
    finally:
        await pool.release(conn)


async def queue_while_held(pool: asyncpg.Pool, queue: asyncio.Queue):
    async with pool.acquire() as conn:  # expect: CL006
        while True:
            job_id = await queue.get()
            await conn.execute("delete from jobs where id = $1", job_id)


async def subprocess_while_held(pool: asyncpg.Pool):
    async with pool.acquire() as conn:  # expect: CL006
        proc = await asyncio.create_subprocess_exec("pg_dump", stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        await conn.execute("insert into dumps (size) values ($1)", len(out))


async def other_pool_while_held(main: asyncpg.Pool, archive: asyncpg.Pool):
    async with main.acquire() as conn:  # expect: CL006
        async with archive.acquire() as old:
            rows = await old.fetch("select id from jobs")
        await conn.executemany("insert into jobs (id) values ($1)", [(r["id"],) for r in rows])


async def aiohttp_while_held(pool: asyncpg.Pool, session: aiohttp.ClientSession):
    async with pool.acquire() as conn:  # expect: CL006
        async with session.get("https://example.com") as response:
            body = await response.text()
        await conn.execute("insert into pages (body) values ($1)", body)


# Silent: released before the sleep.
async def release_then_sleep(pool: asyncpg.Pool):
    conn = await pool.acquire()
    try:
        await conn.execute("select 1")
    finally:
        await pool.release(conn)
    await asyncio.sleep(0.5)


# Silent: the block ends before the HTTP request.
async def fetch_after(pool: asyncpg.Pool, client: httpx.AsyncClient):
    async with pool.acquire() as conn:
        url = await conn.fetchval("select url from pages limit 1")
    response = await client.get(url)
    return response.text


# Silent: only queries on the held connection are awaited.
async def queries_only(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        await conn.execute("select 1")
        return await conn.fetchval("select 2")
