# Four services of one company share one PostgreSQL (max_connections = 100). Each pool looks
# reasonable on its own; together they are 30 + 40 + 20 + at least 15 = 105.
# confirm: none
from sqlalchemy import create_engine

ENGINE = create_engine("postgresql://orders@db/shop", pool_size=20, max_overflow=10)  # expect: CL011


def order_count():
    with ENGINE.connect() as conn:
        return conn.exec_driver_sql("select count(*) from orders").scalar()
