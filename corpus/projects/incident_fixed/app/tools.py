# confirm: none
from app.db import _get_db_for_project, raw_connection

from .db import get_db


def list_tables():
    with get_db() as db:
        cur = db.cursor()
        cur.execute("SELECT tablename FROM pg_tables")
        return [r[0] for r in cur.fetchall()]


def count_rows(project, table):
    with _get_db_for_project(project) as db:
        cur = db.cursor()
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def table_size(table):
    db = get_db()
    try:
        cur = db.cursor()
        cur.execute("SELECT pg_total_relation_size(%s)", (table,))
        return cur.fetchone()[0]
    finally:
        db.close()


def vacuum(project, table):
    with raw_connection(project) as conn:
        conn.cursor().execute(f"VACUUM {table}")
