# A statement the server runs for a minute: the server's statement_timeout (15 s) ends it, the
# driver's deadline turns it into an error for this function.
# confirm: psycopg2
import psycopg2


def sleep_in_server(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(60)")
    finally:
        conn.close()
