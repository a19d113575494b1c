# A small helper defined in this file releases its argument: calling it counts as the
# release, so where it is called decides the outcome.
# confirm: psycopg2-pool


# gives the connection back to its pool
def _give_back(pool, conn):
    pool.putconn(conn)


# the helper runs in `finally`
def count_roles(pool):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_roles")
            return cur.fetchone()[0]
    finally:
        _give_back(pool, conn)


# the helper runs only after the query succeeded
def count_roles_success_only(pool):
    conn = pool.getconn()  # expect: CL002
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM pg_roles")
    total = cur.fetchone()[0]
    _give_back(pool, conn)
    return total
