# sqlite3 direct connections: a PRAGMA between connect() and `try`, and close() placed
# after a `with conn:` block (which only ends the transaction).
# confirm: sqlite3
import sqlite3


# the PRAGMA runs before `try`: if it raises, close() never runs
def count_tables(path):
    conn = sqlite3.connect(path)  # expect: CL002
    conn.execute("PRAGMA foreign_keys = ON")
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        conn.close()


# the PRAGMA is inside `try`, so `finally` covers it
def count_tables_released(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        conn.close()


# close() after the `with` block runs on success only: the block does not close on error
def save_setting(path, key="k", value="v"):
    with sqlite3.connect(path) as conn:  # expect: CL002
        conn.execute("CREATE TABLE IF NOT EXISTS settings (k TEXT PRIMARY KEY, v TEXT)")
        conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))
    conn.close()
