# confirm: none
import asyncpg

_pool = None


async def pool():
    global _pool
    if _pool is None:
        _pool = await asyncpg.create_pool("postgresql://billing@db/shop", max_size=40)  # expect: CL011
    return _pool


async def invoice_total(invoice_id):
    async with (await pool()).acquire() as conn:
        return await conn.fetchval("select total from invoices where id = $1", invoice_id)
