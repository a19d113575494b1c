# SQLAlchemy: close() after the success path is skipped when a statement raises;
# `with engine.connect()` closes on every exit.
# confirm: sqlalchemy
from sqlalchemy import text
from sqlalchemy.orm import Session


# close() is skipped when execute() raises
def select_one(engine):
    conn = engine.connect()  # expect: CL002
    value = conn.execute(text("SELECT 1")).scalar()
    conn.close()
    return value


# the raw DBAPI connection is returned to the pool by close(), skipped on error
def select_one_raw(engine):
    raw = engine.raw_connection()  # expect: CL002
    cur = raw.cursor()
    cur.execute("SELECT 1")
    value = cur.fetchone()[0]
    raw.close()
    return value


# the session's connection goes back on close(), skipped on error
def select_one_session(engine):
    session = Session(engine)  # expect: CL002
    value = session.execute(text("SELECT 1")).scalar()
    session.close()
    return value


# `with engine.connect()` closes the connection on every exit
def select_one_with_block(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1")).scalar()
