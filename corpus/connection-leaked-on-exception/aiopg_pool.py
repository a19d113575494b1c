# aiopg: `pool.release(conn)` after the success path versus in `finally`.
# confirm: none
import aiopg


# release() is skipped when execute() or fetchone() raises
async def server_time(pool: aiopg.Pool):
    conn = await pool.acquire()  # expect: CL002
    async with conn.cursor() as cur:
        await cur.execute("SELECT now()")
        row = await cur.fetchone()
    pool.release(conn)
    return row[0]


# release() in `finally`
async def server_time_released(pool: aiopg.Pool):
    conn = await pool.acquire()
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT now()")
            row = await cur.fetchone()
        return row[0]
    finally:
        await pool.release(conn)
