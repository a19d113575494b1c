# A function that kills its interpreter, between two well-behaved ones.
# confirm: sqlite3
import os
import sqlite3
from contextlib import closing


def closed_before(path):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT 1").fetchone()[0]


def die(path):
    os._exit(3)


def leak_after_crash(path):
    conn = sqlite3.connect(path)  # expect: CL001
    return conn.execute("SELECT 1").fetchone()[0]
