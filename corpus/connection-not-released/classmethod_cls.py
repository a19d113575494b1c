# In a classmethod, `cls(...)` builds an instance as `Store(...)` does: a connection handed to
# it is the instance's now. (The harness cannot call classmethods.)
# confirm: none
import sqlite3


class Store:
    def __init__(self, connection):
        self.connection = connection

    # Silent: the connection goes into the instance returned.
    @classmethod
    def from_rows(cls, path, rows=()):
        connection = sqlite3.connect(path)
        store = cls(connection=connection)
        store.rows = list(rows)
        return store

    # The connection is dropped when the count is known.
    @classmethod
    def count_rows(cls, path):
        connection = sqlite3.connect(path)  # expect: CL001
        return connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
