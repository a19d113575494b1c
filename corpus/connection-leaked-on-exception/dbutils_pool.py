# DBUtils PooledDB: conn.close() returns the connection to the pool; after the success path
# it is skipped on error, in `finally` it is not.
# confirm: none
from dbutils.pooled_db import PooledDB


# close() is skipped when cursor(), execute() or fetchone() raises
def answer(pool: PooledDB):
    conn = pool.connection()  # expect: CL002
    cur = conn.cursor()
    cur.execute("SELECT 42")
    value = cur.fetchone()[0]
    conn.close()
    return value


# close() in `finally`
def answer_released(pool: PooledDB):
    conn = pool.connection()
    try:
        cur = conn.cursor()
        cur.execute("SELECT 42")
        return cur.fetchone()[0]
    finally:
        conn.close()
