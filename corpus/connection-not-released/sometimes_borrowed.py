# A function that makes a connection on one path but gives back one it was handed on another
# (`return connection.connection`) is not a factory: its callers cannot tell which they got.
# One that always makes it is.
# confirm: sqlalchemy
from sqlalchemy import Connection, Engine


def _raw(connection: Engine | Connection):
    if isinstance(connection, Engine):
        return connection.raw_connection()
    return connection.connection


def _fresh(engine):
    return engine.raw_connection()


# Silent: handed a Connection, `_raw` gives back the one under it (trino's and PyAthena's
# dialects do this).
def _version_of(connection):
    raw = _raw(connection)
    return raw.dbapi_connection.server_version


# Silent: the `with` releases the connection `_version_of` borrows.
def server_version(engine):
    with engine.connect() as connection:
        return _version_of(connection)


def server_version_leaked(engine):
    raw = _fresh(engine)  # expect: CL001
    return raw.dbapi_connection.server_version
