# A `match` statement whose first case returns early, with and without a `finally`.
# confirm: psycopg2-pool


# the "ping" case returns before putconn(); only the other cases reach the release
def run_command(pool, command="ping"):
    conn = pool.getconn()  # expect: CL001
    cur = conn.cursor()
    match command:
        case "ping":
            cur.execute("SELECT 1")
            return cur.fetchone()[0] == 1
        case "now":
            cur.execute("SELECT now()")
            result = cur.fetchone()[0]
        case _:
            result = None
    pool.putconn(conn)
    return result


# every case returns inside try/finally, so the connection always goes back
def run_command_released(pool, command="ping"):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            match command:
                case "ping":
                    cur.execute("SELECT 1")
                    return cur.fetchone()[0] == 1
                case "now":
                    cur.execute("SELECT now()")
                    return cur.fetchone()[0]
                case _:
                    return None
    finally:
        pool.putconn(conn)
