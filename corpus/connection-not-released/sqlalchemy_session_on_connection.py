# A Session bound to a connection borrows it: it checks nothing out of the pool, and closing
# the session leaves the connection open. The connection stays its acquirer's to release.
# confirm: sqlalchemy
from sqlalchemy import text
from sqlalchemy.orm import Session


# Silent: the connection is released by its `with`; the session only borrows it.
def on_own_connection(engine):
    with engine.connect() as conn:
        session = Session(bind=conn)
        session.execute(text("SELECT 1"))
        session.commit()


# Closing the session does not close the connection under it.
def own_connection_never_closed(engine):
    conn = engine.connect()  # expect: CL001
    session = Session(bind=conn)
    session.execute(text("SELECT 1"))
    session.close()


# A session on the engine checks a connection out and holds it until it is closed.
def session_on_engine(engine):
    session = Session(bind=engine)  # expect: CL001
    return session.execute(text("SELECT 1")).scalar()


# Silent: a session with nothing to connect through (no bind, no arguments) never checks a
# connection out.
def unbound_session(engine):
    session = Session()
    return len(session.new)


# Silent: entering by hand gives the connection itself, handed to the caller here.
def entered_by_hand(engine):
    return engine.connect().__enter__()
