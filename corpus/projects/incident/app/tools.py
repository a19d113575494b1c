# Tool functions, as the server called them: most relied on the garbage collector.
# confirm: none
from app.db import _adapter_for, _get_db_for_project
from app.helpers import give_back

from .db import get_db


# never closed: released only when the garbage collector gets to the wrapper
def list_tables():
    db = get_db()  # expect: CL003
    cur = db.cursor()
    cur.execute("SELECT tablename FROM pg_tables")
    return [r[0] for r in cur.fetchall()]


# the per-project factory, never closed either
def count_rows(project, table):
    db = _get_db_for_project(project)  # expect: CL003
    cur = db.cursor()
    cur.execute(f"SELECT count(*) FROM {table}")
    return cur.fetchone()[0]


# closed only when the query succeeds
def table_size(table):
    db = get_db()  # expect: CL003
    cur = db.cursor()
    cur.execute("SELECT pg_total_relation_size(%s)", (table,))
    size = cur.fetchone()[0]
    db.close()
    return size


# closed in `finally`: correct
def server_version():
    db = get_db()
    try:
        return db.conn.server_version
    finally:
        db.close()


# a raw connection from the adapter, given back by a closer in another module: correct
def backend_pid(project):
    conn = _adapter_for(project).get_connection()
    try:
        return conn.get_backend_pid()
    finally:
        give_back(project, conn)


# a raw connection given back only on success
def vacuum(project, table):
    conn = _adapter_for(project).get_connection()  # expect: CL002
    conn.cursor().execute(f"VACUUM {table}")
    give_back(project, conn)
