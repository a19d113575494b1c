# aiomysql: `await pool.acquire()` must be matched by `pool.release(conn)`; an early
# return inside `async with pool.acquire()` still releases.
# confirm: none
import aiomysql


# the empty-result path returns before release()
async def first_user_id(pool: aiomysql.Pool):
    conn = await pool.acquire()  # expect: CL001
    async with conn.cursor() as cur:
        await cur.execute("SELECT 1 FROM DUAL WHERE 1 = 0")
        row = await cur.fetchone()
    if row is None:
        return None
    pool.release(conn)
    return row[0]


# `async with pool.acquire()` releases the connection on the early return too
async def first_user_id_async_with(pool: aiomysql.Pool):
    async with pool.acquire() as conn:
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1 FROM DUAL WHERE 1 = 0")
            row = await cur.fetchone()
        if row is None:
            return None
        return row[0]
