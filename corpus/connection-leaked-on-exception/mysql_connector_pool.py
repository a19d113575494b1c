# mysql.connector pooling: cnx.close() returns a pooled connection; placed after the
# success path it is skipped on error, while `with pool.get_connection()` always returns it.
# confirm: none
from mysql.connector import pooling


# close() (the return to the pool) is skipped when cursor(), execute() or fetchone() raises
def answer(pool: pooling.MySQLConnectionPool):
    cnx = pool.get_connection()  # expect: CL002
    cur = cnx.cursor()
    cur.execute("SELECT 42")
    (value,) = cur.fetchone()
    cur.close()
    cnx.close()
    return value


# the `with` block calls close() on exit, which returns the connection to the pool
def answer_with_block(pool: pooling.MySQLConnectionPool):
    with pool.get_connection() as cnx:
        with cnx.cursor() as cur:
            cur.execute("SELECT 42")
            (value,) = cur.fetchone()
    return value
