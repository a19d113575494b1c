# Pools whose configuration asks for no limit, and their bounded twins.
# confirm: none
import os

import aiomysql
import aiopg
import pymysql
from dbutils.pooled_db import PooledDB
from psycopg_pool import NullConnectionPool
from sqlalchemy import create_engine

# The "QueuePool limit reached" fix that moves the outage to the database.
OVERFLOW = create_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=-1)  # expect: CL004
NO_SIZE = create_engine(os.environ["DATABASE_URL"], pool_size=0)  # expect: CL004
BOUNDED = create_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=5)
DEFAULTS = create_engine(os.environ["DATABASE_URL"])

# DBUtils leaves `maxconnections` unlimited unless it is set.
LEGACY = PooledDB(pymysql, mincached=2)  # expect: CL004
LEGACY_BOUNDED = PooledDB(pymysql, mincached=2, maxconnections=20)

NULL_POOL = NullConnectionPool("dbname=app")  # expect: CL004
NULL_POOL_BOUNDED = NullConnectionPool("dbname=app", max_size=8)

# SQLite engines use no server slots.
LOCAL = create_engine("sqlite:///cache.db", pool_size=0)


async def start_mysql():
    global MYSQL
    MYSQL = await aiomysql.create_pool(minsize=1, maxsize=0)  # expect: CL004


async def start_postgres():
    global PG
    PG = await aiopg.create_pool("dbname=app", maxsize=None)  # expect: CL004


async def start_postgres_bounded():
    global PG_BOUNDED
    PG_BOUNDED = await aiopg.create_pool("dbname=app", maxsize=15)
