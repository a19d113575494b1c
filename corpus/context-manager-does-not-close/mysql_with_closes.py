# MySQL drivers whose connection `with` closes: PyMySQL >= 1.0 and mysql.connector.
# confirm: none
import mysql.connector
import pymysql


# PyMySQL >= 1.0: leaving `with conn` closes the connection
def server_version(params: dict):
    with pymysql.connect(**params) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            return cur.fetchone()[0]


# mysql.connector: the connection's __exit__ closes it
def server_version_connector(params: dict):
    with mysql.connector.connect(**params) as cnx:
        with cnx.cursor() as cur:
            cur.execute("SELECT VERSION()")
            return cur.fetchone()[0]
