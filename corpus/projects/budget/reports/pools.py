# confirm: none
from psycopg_pool import ConnectionPool

POOL = ConnectionPool("dbname=shop user=reports", min_size=2, max_size=20)  # expect: CL011


def monthly_report():
    with POOL.connection() as conn:
        return conn.execute("select * from monthly").fetchall()
