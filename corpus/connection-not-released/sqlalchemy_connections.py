# SQLAlchemy: engine.connect(), engine.raw_connection() and Session(engine) hold a pooled
# connection until closed; `with` on them (or engine.begin()) closes it.
# confirm: sqlalchemy
from sqlalchemy import text
from sqlalchemy.orm import Session


# the Connection is never closed, so its pooled connection is never checked in
def select_one(engine):
    conn = engine.connect()  # expect: CL001
    return conn.execute(text("SELECT 1")).scalar()


# the Session keeps the connection of its open transaction until close(), never called
def select_one_session(engine):
    session = Session(engine)  # expect: CL001
    return session.execute(text("SELECT 1")).scalar()


# `with Session(engine)` closes the session, returning its connection, on every exit
def select_one_session_block(engine):
    with Session(engine) as session:
        return session.execute(text("SELECT 1")).scalar()


# engine.begin() commits or rolls back, then returns the connection to the pool
def select_one_in_transaction(engine):
    with engine.begin() as conn:
        return conn.execute(text("SELECT 1")).scalar()


# a generator that yields query results and never closes its session: the session keeps its
# connection checked out after the consumer is done
def stream_numbers(engine, n=3):
    session = Session(engine)  # expect: CL001
    for i in range(n):
        yield session.execute(text("SELECT :i"), {"i": i}).scalar()
