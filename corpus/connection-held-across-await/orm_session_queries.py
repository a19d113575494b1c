# A SQLAlchemy AsyncSession is often named `session`, as HTTP client sessions are: awaiting
# its own methods (`get`, `stream`, `delete`) is querying on the held connection.
# confirm: none
import aiohttp
import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.models import User

engine = create_async_engine("postgresql+asyncpg://app@db/app", pool_size=5, pool_timeout=10)
make_session = async_sessionmaker(engine, expire_on_commit=False)


# Silent: every await is a query on the held session itself.
async def rename(user_id: int, name: str):
    async with make_session() as session:
        user = await session.get(User, user_id)
        user.name = name
        result = await session.stream(select(User).where(User.name == name))
        async for row in result:
            print(row)
        await session.delete(user)
        await session.commit()


# An HTTP client session awaited while the ORM session is held still counts.
async def rename_from_http(user_id: int, http: aiohttp.ClientSession):
    async with make_session() as session:  # expect: CL006
        user = await session.get(User, user_id)
        async with http.get(f"https://example.com/users/{user_id}") as response:
            user.name = await response.text()
        await session.commit()


# The name `session` first held the ORM session, released before the HTTP client takes the
# name: its request is awaited while another connection is held, and counts.
async def name_reused(pool: asyncpg.Pool, user_id: int):
    async with make_session() as session:
        await session.get(User, user_id)
    async with pool.acquire() as conn:  # expect: CL006
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://example.com/users/{user_id}") as response:
                body = await response.text()
        await conn.execute("update users set bio = $1 where id = $2", body, user_id)
