# SQLAlchemy's `conn.execution_options(...)` returns the connection itself: rebinding the name
# to what it returns, or entering it, keeps the same connection.
# confirm: sqlalchemy
from sqlalchemy import text


# Silent: the name now holds the same connection, closed in `finally`.
def autocommit_select(engine):
    conn = engine.connect()
    try:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn.execute(text("SELECT 1")).scalar()
    finally:
        conn.close()


# Silent: the `with` enters the connection itself and closes it.
def cached_selects(engine):
    with engine.connect().execution_options(compiled_cache={}) as conn:
        return [conn.execute(text("SELECT 1")).scalar() for _ in range(2)]


def autocommit_leaked(engine):
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")  # expect: CL001
    return conn.execute(text("SELECT 1")).scalar()
