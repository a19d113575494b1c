# One pool per tenant: counted once unless [budget.multiplicity] says how many tenants exist.
# confirm: none
import functools

import psycopg2.pool


@functools.lru_cache(maxsize=None)
def pool_for(tenant):
    return psycopg2.pool.ThreadedConnectionPool(1, 15, dbname=f"shop_{tenant}")  # expect: CL005, CL011


def unread(tenant, user):
    pool = pool_for(tenant)
    conn = pool.getconn()
    try:
        return conn.cursor().execute("select count(*) from unread where user_id = %s", (user,))
    finally:
        pool.putconn(conn)
