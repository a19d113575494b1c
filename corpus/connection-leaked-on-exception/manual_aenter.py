# Entering an async connection by hand and keeping it: what `__aenter__` gives is the
# connection itself, stored on the object. If the `await` raises, the connection never
# started and nothing is held, but the analysis counts it as acquired at `connect()`.
# confirm: none
from sqlalchemy.ext.asyncio import AsyncEngine


class Transaction:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.connection = None

    async def __aenter__(self):
        # expect-spurious: CL002
        self.connection = await self.engine.connect().__aenter__()
        return self

    async def __aexit__(self, *exc):
        await self.connection.__aexit__(*exc)
