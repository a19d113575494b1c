# Sizes above the ceiling (max-pool-size, 100 by default) and sizes from the environment.
# confirm: none
import os

import asyncpg
from psycopg2.pool import ThreadedConnectionPool
from sqlalchemy import create_engine

WORKERS = 4
PER_WORKER = 40

HUGE = ThreadedConnectionPool(1, 1000, "dbname=app")  # expect: CL004
COMPUTED = create_engine("postgresql://db/app", pool_size=WORKERS * PER_WORKER)  # expect: CL004
AT_CEILING = create_engine("postgresql://db/app", pool_size=90, max_overflow=10)

# Only as safe as the last deploy's setting.
FROM_ENV = ThreadedConnectionPool(1, int(os.environ.get("POOL_MAX", "10")), "dbname=app")  # expect: CL004
FROM_GETENV = create_engine("postgresql://db/app", pool_size=int(os.getenv("POOL_SIZE", "5")))  # expect: CL004
CLAMPED = ThreadedConnectionPool(1, min(int(os.environ.get("POOL_MAX", "10")), 20), "dbname=app")


async def init_pool():
    return await asyncpg.create_pool("postgresql://db/app", max_size=int(os.environ["PG_MAX"]))  # expect: CL004


async def init_pool_clamped():
    size = 10
    return await asyncpg.create_pool("postgresql://db/app", max_size=min(size, 30))


def from_settings(settings):
    # Not computable here: not reported.
    return create_engine(settings.url, pool_size=settings.pool_size)
