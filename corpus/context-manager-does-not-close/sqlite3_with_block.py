# sqlite3: `with conn:` commits or rolls back but never closes; contextlib.closing() or an
# explicit close() in `finally` does close.
# confirm: sqlite3
import sqlite3
from contextlib import ExitStack, closing


# the block commits the insert, then leaves the connection open
def add_note(path, body="hello"):
    with sqlite3.connect(path) as conn:  # expect: CL008
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES (?)", (body,))


# `with conn:` on a connection opened on an earlier line is transaction-only as well
def count_notes(path):
    conn = sqlite3.connect(path)  # expect: CL008
    with conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        return conn.execute("SELECT count(*) FROM notes").fetchone()[0]


# one connection per iteration, none of them closed
def set_versions(path, versions=(1, 2)):
    for version in versions:
        with sqlite3.connect(path) as conn:  # expect: CL008
            conn.execute(f"PRAGMA user_version = {int(version)}")


# enter_context() registers the connection's own __exit__, which only ends the transaction
def add_note_exit_stack(path, body="hello"):
    with ExitStack() as stack:
        conn = stack.enter_context(sqlite3.connect(path))  # expect: CL008
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES (?)", (body,))


# closing() closes; the inner `with conn:` is only the transaction
def add_note_closing(path, body="hello"):
    with closing(sqlite3.connect(path)) as conn:
        with conn:
            conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
            conn.execute("INSERT INTO notes VALUES (?)", (body,))


# closing() registered on an ExitStack closes when the stack exits
def add_note_exit_stack_closing(path, body="hello"):
    with ExitStack() as stack:
        conn = stack.enter_context(closing(sqlite3.connect(path)))
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES (?)", (body,))
        conn.commit()


# `with conn:` for the transaction, close() in `finally` for the connection
def add_note_try_finally(path, body="hello"):
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
            conn.execute("INSERT INTO notes VALUES (?)", (body,))
    finally:
        conn.close()


# closed after the block on the normal path: not this rule (an error in the block
# skipping close() is connection-leaked-on-exception)
def add_note_then_close(path, body="hello"):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES (?)", (body,))
    conn.close()


# the connection is stored on `self`; `with self.conn:` is a transaction, close() closes
class NoteStore:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        with self.conn:
            self.conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")

    def close(self):
        self.conn.close()
