# The most common real leak: the release sits after the success path, so an exception from
# cursor(), execute() or fetchone() skips it. Correct forms release in `finally`.
# confirm: psycopg2-pool


# putconn() only runs if cursor(), execute() and fetchone() all succeed
def load_setting(pool, name="TimeZone"):
    conn = pool.getconn()  # expect: CL002
    cur = conn.cursor()
    cur.execute("SELECT current_setting(%s)", (name,))
    value = cur.fetchone()[0]
    pool.putconn(conn)
    return value


# the release is in `finally`, so it runs when the query raises
def load_setting_released(pool, name="TimeZone"):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting(%s)", (name,))
            return cur.fetchone()[0]
    finally:
        pool.putconn(conn)


# acquired inside `try` with a None guard in `finally`: correct when getconn() itself raises
def load_setting_none_guarded(pool, name="TimeZone"):
    conn = None
    try:
        conn = pool.getconn()
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting(%s)", (name,))
            return cur.fetchone()[0]
    finally:
        if conn:
            pool.putconn(conn)


# the same None guard spelled `is not None`
def load_setting_is_not_none_guarded(pool, name="TimeZone"):
    conn = None
    try:
        conn = pool.getconn()
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting(%s)", (name,))
            return cur.fetchone()[0]
    finally:
        if conn is not None:
            pool.putconn(conn)
