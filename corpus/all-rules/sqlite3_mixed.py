# sqlite3 under every rule: `with sqlite3.connect()` and no close() is CL008 only; no `with`
# and no close() is CL001; closing() is correct.
# confirm: sqlite3
import sqlite3
from contextlib import closing


# the transaction block never closes the connection: CL008, not also CL001
def add_note(path, body="hello"):
    with sqlite3.connect(path) as conn:  # expect: CL008
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES (?)", (body,))


# opened and never closed, with no `with` involved: CL001
def count_notes(path):
    conn = sqlite3.connect(path)  # expect: CL001
    conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
    return conn.execute("SELECT count(*) FROM notes").fetchone()[0]


# closing() closes the connection on every exit
def count_notes_closing(path):
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
        return conn.execute("SELECT count(*) FROM notes").fetchone()[0]
