# SQLAlchemy: an engine (a pool) per call, disposed or not, against engines built once.
# confirm: sqlalchemy
import functools
import os

from sqlalchemy import create_engine, text

ENGINE = create_engine(os.environ["DATABASE_URL"], pool_size=2, max_overflow=0)


def report(url):
    engine = create_engine(url, pool_size=2, max_overflow=0)  # expect: CL005
    with engine.connect() as conn:
        return conn.execute(text("select 1")).scalar()


def report_disposed(url):
    engine = create_engine(url, pool_size=1, max_overflow=1)  # expect: CL005
    try:
        with engine.connect() as conn:
            return conn.execute(text("select 1")).scalar()
    finally:
        engine.dispose()


@functools.lru_cache(maxsize=1)
def default_engine():
    return create_engine(os.environ["DATABASE_URL"], pool_size=2, max_overflow=0)


def report_cached():
    with default_engine().connect() as conn:
        return conn.execute(text("select 1")).scalar()


def report_module_level():
    with ENGINE.connect() as conn:
        return conn.execute(text("select 1")).scalar()


def report_from(engine):
    with engine.connect() as conn:
        return conn.execute(text("select 1")).scalar()
