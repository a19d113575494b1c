# Pool factories: the construction is fine where it is (returned to the caller); what matters
# is how often callers call them.
# confirm: none
from sqlalchemy import create_engine
from psycopg_pool import ConnectionPool


def make_engine(url):
    return create_engine(url, pool_size=5, max_overflow=5)


def make_pool(dsn):
    pool = ConnectionPool(dsn, max_size=10)
    return pool


def engine_for_tenant(tenant):
    # A factory built on a factory.
    return make_engine(f"postgresql://db/{tenant}")


ENGINE = make_engine("postgresql://db/app")
