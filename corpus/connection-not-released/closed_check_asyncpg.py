# `if not conn.is_closed(): await conn.close()` closes every connection still open: where
# `is_closed()` is true there is nothing left to close.
# confirm: asyncpg
import asyncpg


# Silent.
async def fetch_one(url):
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT 1")
    finally:
        if not conn.is_closed():
            await conn.close()


# Silent: not connected at all, or connected and still open, it is closed.
async def fetch_one_maybe(url):
    conn = None
    try:
        conn = await asyncpg.connect(url)
        return await conn.fetchval("SELECT 1")
    finally:
        if conn and not conn.is_closed():
            await conn.close()


# The test is the wrong way round: an open connection is never closed.
async def fetch_one_inverted(url):
    conn = await asyncpg.connect(url)  # expect: CL001
    try:
        return await conn.fetchval("SELECT 1")
    finally:
        if conn.is_closed():
            await conn.close()
