# A path that ends the process (`sys.exit`, `exit`, `os._exit`) leaks nothing: the operating
# system closes every connection the process holds. Paths that go on still count.
# confirm: none
import os
import sys

import psycopg2


# Silent: the bad-input path ends the process before the `try`.
def count_rows(dsn, table):
    conn = psycopg2.connect(dsn)
    if not table:
        sys.exit("no table given")
    try:
        conn.cursor().execute(f"SELECT count(*) FROM {table}")
    finally:
        conn.close()


# Silent: the same with the built-in `exit` and with `os._exit`.
def count_rows_exit(dsn, table, hard):
    conn = psycopg2.connect(dsn)
    if hard:
        os._exit(2)
    if not table:
        exit(2)
    try:
        conn.cursor().execute(f"SELECT count(*) FROM {table}")
    finally:
        conn.close()


# Silent: every exception the query raises ends the process in the handler.
def count_rows_or_die(dsn, table):
    conn = psycopg2.connect(dsn)
    try:
        conn.cursor().execute(f"SELECT count(*) FROM {table}")
    except Exception as e:
        sys.exit(f"query failed: {e}")
    conn.close()


# Silent: `except Exception as e` catches what `except Exception` does, and its path goes on
# to the close.
def count_rows_noted(dsn, table, errors):
    conn = psycopg2.connect(dsn)
    try:
        conn.cursor().execute(f"SELECT count(*) FROM {table}")
    except Exception as e:
        errors += [e]
    conn.close()


# The bad-input path raises instead: the caller may catch it, and the connection is lost.
def count_rows_or_raise(dsn, table):
    conn = psycopg2.connect(dsn)  # expect: CL002
    if not table:
        raise ValueError("no table given")
    try:
        conn.cursor().execute(f"SELECT count(*) FROM {table}")
    finally:
        conn.close()
