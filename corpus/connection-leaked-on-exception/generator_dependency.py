# FastAPI-style dependencies are plain generators: the framework runs the code after `yield`
# when the request ends and throws the request's exception in at the `yield`. A generator that
# closes the session itself keeps ownership across the `yield`.
# confirm: sqlalchemy
from sqlalchemy.orm import sessionmaker

# Bound at start-up: SessionLocal.configure(bind=engine)
SessionLocal = sessionmaker()


# try/finally around the yield: closed whether the request succeeded or failed
def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


# an exception thrown in at the yield skips close(), and the session keeps its connection
def get_db_unguarded():
    db = SessionLocal()  # expect: CL002
    yield db
    db.close()


# a generator of fresh connections hands each one to its consumer
def each_connection(engine, n=2):
    for _ in range(n):
        yield engine.connect()
