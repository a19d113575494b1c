# A second connection from the same pool while the first is still held: psycopg2, psycopg_pool,
# asyncpg and SQLAlchemy, sync and async, directly or through a function of the file that
# takes a connection from the pool it is given.
# confirm: none
import asyncpg
import psycopg2.pool
import psycopg_pool
import sqlalchemy


def copy_rows(pool: psycopg2.pool.ThreadedConnectionPool):
    src = pool.getconn()
    try:
        dst = pool.getconn()  # expect: CL007
        try:
            with src.cursor() as read, dst.cursor() as write:
                read.execute("select id from jobs")
                for (job_id,) in read.fetchall():
                    write.execute("insert into archive (id) values (%s)", (job_id,))
            dst.commit()
        finally:
            pool.putconn(dst)
    finally:
        pool.putconn(src)


def psycopg3_nested(pool: psycopg_pool.ConnectionPool):
    with pool.connection() as conn:
        with pool.connection() as audit:  # expect: CL007
            audit.execute("insert into audit (what) values ('read')")
        return conn.execute("select count(*) from jobs").fetchone()


async def asyncpg_nested(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        async with pool.acquire() as other:  # expect: CL007
            await other.execute("select 1")
        return await conn.fetchval("select 1")


def engine_nested(engine: sqlalchemy.Engine):
    with engine.connect() as outer:
        with engine.connect() as inner:  # expect: CL007
            inner.execute(sqlalchemy.text("select 1"))
        outer.execute(sqlalchemy.text("select 1"))


# Silent: the first connection is back before the second is taken.
def sequential(pool: psycopg2.pool.ThreadedConnectionPool):
    conn = pool.getconn()
    try:
        conn.cursor().execute("select 1")
    finally:
        pool.putconn(conn)
    conn = pool.getconn()
    try:
        conn.cursor().execute("select 2")
    finally:
        pool.putconn(conn)


# Silent: two different pools.
async def two_pools(reads: asyncpg.Pool, writes: asyncpg.Pool):
    async with writes.acquire() as w:
        async with reads.acquire() as r:
            n = await r.fetchval("select count(*) from jobs")
        await w.execute("insert into stats (n) values ($1)", n)


# Silent: the connection is passed down instead of the pool.
async def count_jobs(conn):
    return await conn.fetchval("select count(*) from jobs")


async def pass_the_connection(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        return await count_jobs(conn)


def count_jobs_with(pool: psycopg2.pool.ThreadedConnectionPool):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from jobs")
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


def report(pool: psycopg2.pool.ThreadedConnectionPool):
    conn = pool.getconn()
    try:
        total = count_jobs_with(pool)  # expect: CL007
        with conn.cursor() as cur:
            cur.execute("insert into reports (total) values (%s)", (total,))
        conn.commit()
    finally:
        pool.putconn(conn)


# Silent: the helper runs after the connection is back.
def report_after(pool: psycopg2.pool.ThreadedConnectionPool):
    total = count_jobs_with(pool)
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("insert into reports (total) values (%s)", (total,))
        conn.commit()
    finally:
        pool.putconn(conn)


async def fetch_total(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        return await conn.fetchval("select count(*) from jobs")


async def async_report(pool: asyncpg.Pool):
    async with pool.acquire() as conn:
        total = await fetch_total(pool)  # expect: CL007
        await conn.execute("insert into reports (total) values ($1)", total)
