# confirm: none
from app.db import ENGINE, engine_for_tenant, make_engine, make_pool

_reports = None


def orders(request):
    engine = make_engine(request.app.config["DATABASE_URL"])  # expect: CL005
    with engine.connect() as conn:
        return conn.exec_driver_sql("select count(*) from orders").scalar()


def tenant_orders(request, tenant):
    engine = engine_for_tenant(tenant)  # expect: CL005
    with engine.connect() as conn:
        return conn.exec_driver_sql("select count(*) from orders").scalar()


def reports_pool():
    global _reports
    if _reports is None:
        _reports = make_pool("dbname=reports")
    return _reports


def shared(request):
    with ENGINE.connect() as conn:
        return conn.exec_driver_sql("select 1").scalar()


def startup(app):
    app.state.pool = make_pool("dbname=app")
