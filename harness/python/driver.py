#!/usr/bin/env python3
"""connlint runtime confirmation: the Python driver.

Runs the functions of ONE corpus file against real pools and reports, per function, whether
connections were left checked out or open. Started by the Rust harness (harness/src/main.rs) with
the path of a JSON job file; writes one JSON object per line on its standard output (the case
code's own prints go to standard error). harness/README.md says what is measured and why.

Job: {"case", "corpus_root", "runtime", "file_id", "pg": {"host","port","user","dbname"} | null,
      "workdir", "deadline", "max_fault_points", "only": [qualname] | null}
Events: {"event": "functions", "functions": [...]}, {"event": "begin", "name"},
        {"event": "run", "name", "index"}, {"event": "result", "name", ...},
        {"event": "file-error", "message"}, {"event": "done"}
"""

import asyncio
import contextlib
import dis
import gc
import importlib.util
import inspect
import json
import os
import signal
import sqlite3
import sys
import threading
import time
import traceback
import types
import warnings
import weakref

# --------------------------------------------------------------------------------------------
# Output channel: events go to a private copy of fd 1; fd 1 itself becomes stderr so that any
# print() in a case (or in C code) cannot corrupt the event stream.
_EVENTS = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(**event):
    _EVENTS.write(json.dumps(event, default=str) + "\n")
    _EVENTS.flush()


warnings.simplefilter("ignore")  # ResourceWarning/SAWarning for the leaks we cause on purpose

# --------------------------------------------------------------------------------------------
# Database libraries: only those of the file's runtime are imported (and hooked), which keeps a
# sqlite3 or psycopg2 file from paying SQLAlchemy's import time. See RUNTIME_LIBRARIES.
psycopg2 = psycopg = psycopg_pool = asyncpg = sqlalchemy = None

# A statement that the SERVER fails: the backend cancels its own statement, which is exactly
# what a statement timeout or an operator's pg_cancel_backend() does in production
# (SQLSTATE 57014 query_canceled: psycopg2/psycopg QueryCanceled, an OperationalError;
# asyncpg QueryCanceledError). pg_sleep() makes sure the cancel lands inside this statement.
PG_FAULT_SQL = (
    "SELECT pg_catalog.pg_cancel_backend(pg_catalog.pg_backend_pid()), pg_catalog.pg_sleep(5)"
    " /* connlint-harness injected fault */"
)
# SQLite has no server: the engine fails the statement (sqlite3.OperationalError: no such table).
SQLITE_FAULT_SQL = "SELECT * FROM connlint_harness_injected_fault"

CO_GENERATOR = inspect.CO_GENERATOR
CO_ASYNC_GENERATOR = inspect.CO_ASYNC_GENERATOR
YIELD_VALUE = dis.opmap["YIELD_VALUE"]
_LIBRARY_DIRS = ()


class HarnessDeadline(BaseException):
    """Raised into a case that exceeds its deadline (BaseException: `except Exception` in the
    case cannot swallow it)."""


class HarnessError(Exception):
    """The harness itself failed (not the case)."""


# --------------------------------------------------------------------------------------------
# Fault injection: every statement a case sends through a tracked connection passes `hit()`.
class Fault:
    def __init__(self):
        self.active = False
        self.count = 0
        self.at = None
        self.fired = False
        self.statements = []

    def reset(self, at):
        self.active = False
        self.count = 0
        self.at = at
        self.fired = False
        self.statements = []

    def hit(self, sql):
        """Counts one statement; True when this is the one that must fail."""
        if not self.active:
            return False
        self.count += 1
        if len(self.statements) < 50:
            self.statements.append(str(sql)[:120])
        if self.at is not None and self.count == self.at:
            self.fired = True
            return True
        return False


FAULT = Fault()


def _called_from_library(depth=2):
    """True if the frame `depth` levels up is inside one of the database libraries (e.g. the
    reset query asyncpg runs when a connection goes back to its pool)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return False
    return frame.f_code.co_filename.startswith(_LIBRARY_DIRS)


# --------------------------------------------------------------------------------------------
# Tracking: a strong reference to every connection handed out while a case runs. Holding it
# stops CPython's reference counting from closing a dropped connection at function return, so
# what we see is what long-lived code (where the frame, the session or the exception keeps it)
# would see: checked out or open.
class Rec:
    __slots__ = ("target", "library", "pooled", "pg", "chain", "returned", "released_by")

    def __init__(self, target, library, pooled, pg):
        self.target = target
        self.library = library
        self.pooled = pooled
        self.pg = pg
        self.chain = _case_chain(sys._getframe(1))
        self.returned = False
        self.released_by = None  # "code" or "finalizer", from the release hooks

    @property
    def owner(self):
        return self.chain[0][0] if self.chain else None

    @property
    def line(self):
        return self.chain[0][1] if self.chain else None

    def describe(self):
        kind = "pooled connection" if self.pooled else "connection"
        return f"{self.library} {kind}"


class Tracker:
    def __init__(self):
        self.records = []
        self.enabled = False

    def add(self, target, library, pooled, pg):
        if not self.enabled:
            return None
        rec = self.find(target)
        if rec is not None:  # a pooled connection handed out again: a new acquisition
            rec.chain = _case_chain(sys._getframe(1))
            rec.returned = False
            rec.released_by = None
            return rec
        rec = Rec(target, library, pooled, pg)
        self.records.append(rec)
        return rec

    def released(self, target):
        """Called by the release hooks: remembers whether a finalizer gave it back."""
        rec = self.find(target)
        if rec is not None and rec.released_by is None:
            rec.released_by = "finalizer" if FINALIZING[0] > 0 else "code"

    def find(self, target):
        for rec in reversed(self.records):
            if rec.target is target:
                return rec
        return None

    def clear(self):
        self.records = []


TRACKER = Tracker()


# --------------------------------------------------------------------------------------------
# Pools the case builds itself (CL005). Their constructors are hooked (psycopg2
# AbstractConnectionPool, psycopg_pool ConnectionPool, asyncpg Pool, SQLAlchemy create_engine);
# pools built while `enabled` (from the import of the case to the end of its call; the harness's
# own pool is built before) are recorded here, by weak reference where the class allows, so a
# pool the case drops is freed as it would be in production. Their connections are not tracked
# for leaks: a normal/fault run subtracts their open connections from the backends it counts,
# and closes what is left at the end of the run. The per-call-pool run (run_per_call) counts
# them and the server connections they open.
class CasePools:
    def __init__(self):
        self.enabled = False
        self.call = 0
        self.items = []

    def add(self, obj, library, max_size):
        if not self.enabled:
            return None
        try:
            ref = weakref.ref(obj)
        except TypeError:  # asyncpg's Pool has __slots__ without __weakref__: held strongly
            ref = (lambda o=obj: o)
        item = {"ref": ref, "library": library, "max": max_size, "call": self.call,
                "index": len(self.items)}
        self.items.append(item)
        return item

    def live(self):
        for item in self.items:
            obj = item["ref"]()
            if obj is not None:
                yield item, obj

    def by_pool_id(self):
        """id(pool object) -> item; for SQLAlchemy the engine's current pool."""
        out = {}
        for item, obj in self.live():
            out[id(obj)] = item
            if item["library"] == "sqlalchemy":
                out[id(obj.pool)] = item
        return out

    def open_connections(self):
        """Server connections the case's own pools hold open (idle or checked out), from the
        libraries' statistics."""
        total = 0
        for item, obj in self.live():
            with contextlib.suppress(Exception):
                total += _case_pool_open(item["library"], obj)
        return total

    def close_all(self):
        for item, obj in list(self.live()):
            with contextlib.suppress(Exception):
                _case_pool_close(item["library"], obj)
        self.items = []
        self.enabled = False
        self.call = 0


def _case_pool_open(library, obj):
    if library == "psycopg2":
        return 0 if obj.closed else len(obj._pool) + len(obj._used)
    if library == "psycopg_pool":
        return 0 if obj.closed else obj.get_stats().get("pool_size", 0)
    if library == "asyncpg":
        return 0 if obj._closed else obj.get_size()
    if library == "sqlalchemy":
        pool = obj.pool
        return sum(getattr(pool, m)() for m in ("checkedin", "checkedout") if hasattr(pool, m))
    return 0


def _case_pool_close(library, obj):
    if library == "psycopg2":
        if not obj.closed:
            obj.closeall()
    elif library == "psycopg_pool":
        obj.close(timeout=1.0)
    elif library == "asyncpg":
        if not obj._closed:
            obj.terminate()
    elif library == "sqlalchemy":
        obj.dispose()


CASE_POOLS = CasePools()


class PerCall:
    """The per-call-pool run's record of server connections: every connection a library opens
    while `active` (hooked at psycopg2.connect, psycopg.Connection.connect and
    asyncpg.connection.connect) is an event with the backend PID the library reports, who
    opened it, and the call it happened in; at each such event (while the new connection is
    open) and around every call, the backends of the run's application_name are read from
    pg_stat_activity. The two must agree (see run_per_call)."""

    def __init__(self):
        self.active = False
        self.call = 0
        self.events = []
        self.errors = []
        self.seen = {}  # (pid, backend_start) -> the call during which the server first showed it
        self.lock = threading.Lock()

    def reset(self):
        self.active = False
        self.call = 0
        self.events = []
        self.errors = []
        self.seen = {}

    def snapshot(self):
        with self.lock:
            self._snapshot()

    def _snapshot(self):
        for ident in RUNTIME.monitor.backend_ids(RUNTIME.app):
            self.seen.setdefault(ident, self.call)

    def opened(self, pid_of, frame):
        if not self.active:
            return
        with self.lock:
            if not self.active:
                return
            try:
                pid = pid_of()
            except Exception:
                pid = None
            try:
                direct, item = _who_opened(frame)
            except Exception as exc:  # reported by the verdict, never into the case
                self.errors.append(f"attributing a connection: {_describe_exc(exc)}")
                direct, item = False, None
            if direct:
                by = "case"
            elif item is None:
                by = "other"
            elif item["call"] == self.call:
                by = "new-pool"
            else:
                by = "pool"
            self.events.append({"call": self.call, "pid": pid, "by": by,
                                "pool": None if item is None else item["index"]})
            self._snapshot()


PER_CALL = PerCall()
_DRIVER_FILE = os.path.abspath(__file__)


def _who_opened(frame):
    """(opened directly by case code, the case pool that opened it or None): the first frame
    outside this driver is the case (direct) or a library; a library frame whose `self` is a
    pool the case built (or its SQLAlchemy engine's pool) names that pool."""
    pools = CASE_POOLS.by_pool_id()
    first = True
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename != _DRIVER_FILE:
            if first:
                first = False
                if filename.startswith(CASE["corpus"]):
                    return True, None
            if filename.startswith(CASE["corpus"]):
                return False, None
            owner = frame.f_locals.get("self") if pools else None
            if owner is not None and id(owner) in pools:
                return False, pools[id(owner)]
        frame = frame.f_back
    return False, None
CASE = {"path": None, "corpus": None, "qualnames": set()}


def _case_chain(frame):
    """The frames of the case file on the stack, innermost first, as (qualname, line). The first
    is the connection's owner; empty when the harness itself acquired it (e.g. while using a
    yielded session)."""
    chain = []
    while frame is not None:
        if frame.f_code.co_filename == CASE["path"]:
            chain.append((frame.f_code.co_qualname, frame.f_lineno))
        frame = frame.f_back
    return tuple(chain)


# Finalizers: `__del__` methods and weakref.finalize callbacks running right now. A release that
# happens inside one is a release left to the garbage collector (CL003), not code's release.
FINALIZING = [0]
_FINALIZER_FRAMES = set()
_FINALIZE_CALL = __import__("weakref").finalize.__call__.__code__


def _caller_is_case(depth=2):
    """True if the direct caller (`depth` frames up) is code from the corpus: only connections a
    case opens itself count as its direct connections (not those a pool opens)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return False
    return frame.f_code.co_filename.startswith(CASE["corpus"])


# Ownership moves when a case function returns a connection it owns (a factory), or when a
# plain generator yields it straight into a `for`/`next()` in another case function. A yield to
# contextlib's @contextmanager machinery lends it: the generator stays the owner.
def _profile(frame, event, arg):
    code = frame.f_code
    if event == "call":
        if code.co_name == "__del__" or code is _FINALIZE_CALL:
            FINALIZING[0] += 1
            _FINALIZER_FRAMES.add(id(frame))
        return
    if event != "return":
        return
    if id(frame) in _FINALIZER_FRAMES:
        _FINALIZER_FRAMES.discard(id(frame))
        FINALIZING[0] -= 1
    if arg is None or code.co_filename != CASE["path"]:
        return
    qualname = code.co_qualname
    # the owner, or a function above it in the acquisition chain (a factory's caller-side
    # helper: `def open_db(pool): return Wrapper(pool)` whose __init__ took the connection)
    candidates = [r for r in TRACKER.records
                  if any(q == qualname for q, _ in r.chain) and RUNTIME.is_out(r)]
    if not candidates:
        return
    suspended = code.co_code[frame.f_lasti] == YIELD_VALUE if frame.f_lasti >= 0 else False
    if suspended:
        if not code.co_flags & (CO_GENERATOR | CO_ASYNC_GENERATOR):
            return  # a coroutine suspended at an await
        up = frame.f_back
        if up is None or up.f_code.co_filename != CASE["path"]:
            return  # lent to contextlib, or handed to the harness acting as consumer
    else:
        up = frame.f_back
        while up is not None and up.f_code.co_filename != CASE["path"]:
            up = up.f_back
    found = reachable_targets([arg], {id(r.target) for r in candidates}, RUNTIME.skip_ids())
    for rec in candidates:
        if id(rec.target) in found:
            if up is None:
                rec.chain = (("<caller>", rec.line),)
            else:
                rec.chain = _case_chain(up)


# --------------------------------------------------------------------------------------------
# Reachability: is a checked-out connection still reachable from what the caller was given
# (return value, yielded items of a producer generator, the instance, module globals)? Then
# it was handed over, not leaked. Pools and engines are not walked into (a psycopg2 pool's
# `_used` reaches every checked-out connection), nor are modules, classes, frames or globals.
_NO_WALK = (type, types.ModuleType, types.FrameType, types.CodeType, types.BuiltinFunctionType,
            str, bytes, int, float, bool, type(None))


def _referents(obj):
    if isinstance(obj, types.FunctionType):
        out = []
        for cell in obj.__closure__ or ():
            try:
                out.append(cell.cell_contents)
            except ValueError:
                pass
        out.extend(obj.__defaults__ or ())
        out.extend((obj.__kwdefaults__ or {}).values())
        return out
    if isinstance(obj, types.MethodType):
        return [obj.__self__]
    if isinstance(obj, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
        frame = getattr(obj, "gi_frame", None) or getattr(obj, "cr_frame", None) or getattr(
            obj, "ag_frame", None)
        return list(frame.f_locals.values()) if frame is not None else []
    return gc.get_referents(obj)


def reachable_targets(roots, target_ids, skip_ids, limit=50000):
    found = set()
    if not target_ids:
        return found
    seen = set(skip_ids)
    stack = list(roots)
    steps = 0
    while stack and steps < limit:
        obj = stack.pop()
        oid = id(obj)
        if oid in seen:
            continue
        seen.add(oid)
        steps += 1
        if oid in target_ids:
            found.add(oid)
            if found == target_ids:
                break
        if isinstance(obj, _NO_WALK) or isinstance(obj, BaseException):
            continue
        try:
            stack.extend(_referents(obj))
        except Exception:
            pass
    return found


# --------------------------------------------------------------------------------------------
# Library hooks, installed once before any case is imported (so `from x import connect` binds
# the wrapper too): every statement goes through a fault-injecting cursor/connection class, and
# every connection handed out by a pool or opened by the case itself is tracked.
RUNTIME_LIBRARIES = {
    "sqlite3": (),
    "psycopg2": ("psycopg2",),
    "psycopg2-pool": ("psycopg2",),
    "psycopg-pool": ("psycopg2", "psycopg"),
    "asyncpg": ("psycopg2", "asyncpg"),
    "sqlalchemy": ("psycopg2", "psycopg", "sqlalchemy"),
}


def load_libraries(names):
    """Imports and hooks the libraries of a runtime (psycopg2 is also the monitor's driver)."""
    global _LIBRARY_DIRS
    loaders = {"psycopg2": _load_psycopg2, "psycopg": _load_psycopg, "asyncpg": _load_asyncpg,
               "sqlalchemy": _load_sqlalchemy}
    dirs = []
    for name in names:
        module = loaders[name]()
        dirs.append(os.path.dirname(module.__file__) + os.sep)
        if name == "psycopg":
            dirs.append(os.path.dirname(psycopg_pool.__file__) + os.sep)
    _LIBRARY_DIRS = tuple(dirs)
    _hook_sqlite3()


def _load_psycopg2():
    global psycopg2, Psycopg2FaultCursor, TrackedPsycopg2Pool
    import psycopg2 as module
    import psycopg2.extensions
    import psycopg2.pool
    psycopg2 = module

    class Psycopg2TrackedConnection(psycopg2.extensions.connection):
        def close(self):
            TRACKER.released(self)
            return super().close()

    class Psycopg2FaultCursor(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            if FAULT.hit(query):
                return super().execute(PG_FAULT_SQL)
            return super().execute(query, vars)

        def executemany(self, query, vars_list):
            if FAULT.hit(query):
                return super().execute(PG_FAULT_SQL)
            return super().executemany(query, vars_list)

        def callproc(self, procname, parameters=None):
            if FAULT.hit(procname):
                return super().execute(PG_FAULT_SQL)
            return super().callproc(procname, parameters)

    class TrackedPsycopg2Pool(psycopg2.pool.ThreadedConnectionPool):
        def getconn(self, key=None):
            conn = super().getconn(key)
            TRACKER.add(conn, "psycopg2", pooled=True, pg=True)
            return conn

        def putconn(self, conn=None, key=None, close=False):
            TRACKER.released(conn)
            return super().putconn(conn, key, close)

        def _is_out(self, conn):
            return id(conn) in self._rused

    real_connect = psycopg2.connect

    def connect(*args, **kwargs):
        kwargs.setdefault("cursor_factory", Psycopg2FaultCursor)
        kwargs.setdefault("connection_factory", Psycopg2TrackedConnection)
        conn = real_connect(*args, **kwargs)
        PER_CALL.opened(conn.get_backend_pid, sys._getframe(1))
        if _caller_is_case():
            TRACKER.add(conn, "psycopg2", pooled=False, pg=True)
        return conn

    psycopg2.connect = connect

    # A pool is registered before its constructor opens `minconn` connections, so that those
    # are attributed to it.
    real_pool_init = psycopg2.pool.AbstractConnectionPool.__init__

    def pool_init(self, minconn, maxconn, *args, **kwargs):
        CASE_POOLS.add(self, "psycopg2", maxconn)
        real_pool_init(self, minconn, maxconn, *args, **kwargs)

    psycopg2.pool.AbstractConnectionPool.__init__ = pool_init
    return psycopg2


def _load_psycopg():
    global psycopg, psycopg_pool, PsycopgFaultCursor, TrackedPsycopgPool, PsycopgTrackedConnection
    import psycopg as module
    import psycopg_pool as pool_module
    psycopg, psycopg_pool = module, pool_module

    class PsycopgTrackedConnection(psycopg.Connection):
        def close(self):
            TRACKER.released(self)
            return super().close()

    class PsycopgFaultCursor(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            if FAULT.hit(query):
                return super().execute(PG_FAULT_SQL)
            return super().execute(query, params, **kwargs)

        def executemany(self, query, params_seq, **kwargs):
            if FAULT.hit(query):
                return super().execute(PG_FAULT_SQL)
            return super().executemany(query, params_seq, **kwargs)

    class TrackedPsycopgPool(psycopg_pool.ConnectionPool):
        def getconn(self, timeout=None):
            conn = super().getconn(timeout=timeout)
            rec = TRACKER.add(conn, "psycopg_pool", pooled=True, pg=True)
            if rec is not None:
                self._clh_out.add(id(conn))
            return conn

        def putconn(self, conn):
            TRACKER.released(conn)
            self._clh_out.discard(id(conn))
            return super().putconn(conn)

    def pg3_connect(*args, **kwargs):
        kwargs.setdefault("cursor_factory", PsycopgFaultCursor)
        conn = PsycopgTrackedConnection.connect(*args, **kwargs)
        if _caller_is_case():
            TRACKER.add(conn, "psycopg", pooled=False, pg=True)
        return conn

    psycopg.connect = pg3_connect

    # psycopg_pool opens its connections with `connection_class.connect` (in its worker threads)
    real_classmethod_connect = psycopg.Connection.__dict__["connect"].__func__

    def connection_connect(cls, *args, **kwargs):
        conn = real_classmethod_connect(cls, *args, **kwargs)
        PER_CALL.opened(lambda: conn.info.backend_pid, sys._getframe(1))
        return conn

    psycopg.Connection.connect = classmethod(connection_connect)

    real_pool_init = psycopg_pool.ConnectionPool.__init__

    def pool_init(self, *args, **kwargs):
        item = CASE_POOLS.add(self, "psycopg_pool", None)
        real_pool_init(self, *args, **kwargs)
        if item is not None:
            item["max"] = self.max_size

    psycopg_pool.ConnectionPool.__init__ = pool_init
    return psycopg


def _load_asyncpg():
    global asyncpg, AsyncpgFaultConnection, TrackedAsyncpgPool
    import asyncpg as module
    import asyncpg.pool
    asyncpg = module

    def _apg_method(name):
        base = getattr(asyncpg.Connection, name)

        async def method(self, query, *args, **kwargs):
            # statements asyncpg runs itself (the reset on release, BEGIN of a transaction)
            # are not the case's database work
            if not _called_from_library() and FAULT.hit(query):
                return await asyncpg.Connection.execute(self, PG_FAULT_SQL)
            return await base(self, query, *args, **kwargs)

        method.__name__ = name
        return method

    async def close(self, *, timeout=None):
        TRACKER.released(self)
        return await asyncpg.Connection.close(self, timeout=timeout)

    def terminate(self):
        TRACKER.released(self)
        return asyncpg.Connection.terminate(self)

    methods = {n: _apg_method(n) for n in ("execute", "executemany", "fetch", "fetchval",
                                           "fetchrow", "fetchmany")}
    methods.update(close=close, terminate=terminate)
    AsyncpgFaultConnection = type("AsyncpgFaultConnection", (asyncpg.Connection,), methods)

    class TrackedAsyncpgPool(asyncpg.pool.Pool):
        async def _acquire(self, timeout):
            proxy = await super()._acquire(timeout)
            TRACKER.add(proxy, "asyncpg", pooled=True, pg=True)
            return proxy

        async def release(self, connection, *, timeout=None):
            TRACKER.released(connection)
            return await super().release(connection, timeout=timeout)

    # asyncpg pools call `asyncpg.connection.connect` (looked up when the pool is built)
    real_module_connect = asyncpg.connection.connect

    async def counted_connect(*args, **kwargs):
        frame = sys._getframe(1)
        conn = await real_module_connect(*args, **kwargs)
        PER_CALL.opened(conn.get_server_pid, frame)
        return conn

    asyncpg.connection.connect = counted_connect

    real_pool_init = asyncpg.pool.Pool.__init__

    def pool_init(self, *args, **kwargs):
        item = CASE_POOLS.add(self, "asyncpg", None)
        real_pool_init(self, *args, **kwargs)
        if item is not None:
            item["max"] = self._maxsize

    asyncpg.pool.Pool.__init__ = pool_init

    real_connect = counted_connect

    async def apg_connect(*args, **kwargs):
        kwargs.setdefault("connection_class", AsyncpgFaultConnection)
        case = _caller_is_case()
        conn = await real_connect(*args, **kwargs)
        if case:
            TRACKER.add(conn, "asyncpg", pooled=False, pg=True)
        return conn

    asyncpg.connect = apg_connect
    return asyncpg


def _load_sqlalchemy():
    global sqlalchemy
    import sqlalchemy as module
    import sqlalchemy.event
    import sqlalchemy.orm
    import sqlalchemy.pool
    sqlalchemy = module

    # An Engine is SQLAlchemy's pool holder: one built per call is a pool per call.
    real_create_engine = sqlalchemy.create_engine

    def create_engine(*args, **kwargs):
        engine = real_create_engine(*args, **kwargs)
        pool = engine.pool
        max_size = None
        if hasattr(pool, "size") and getattr(pool, "_max_overflow", -1) >= 0:
            max_size = pool.size() + pool._max_overflow
        CASE_POOLS.add(engine, "sqlalchemy", max_size)
        return engine

    sqlalchemy.create_engine = create_engine
    sqlalchemy.engine.create_engine = create_engine
    return sqlalchemy


def _hook_sqlite3():
    real_connect = sqlite3.connect

    def sqlite_connect(*args, **kwargs):
        kwargs.setdefault("factory", SqliteFaultConnection)
        conn = real_connect(*args, **kwargs)
        if _caller_is_case():
            TRACKER.add(conn, "sqlite3", pooled=False, pg=False)
        return conn

    sqlite3.connect = sqlite_connect


class SqliteFaultCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        if FAULT.hit(sql):
            return super().execute(SQLITE_FAULT_SQL)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq):
        if FAULT.hit(sql):
            return super().execute(SQLITE_FAULT_SQL)
        return super().executemany(sql, seq)

    def executescript(self, script):
        if FAULT.hit(script):
            return super().execute(SQLITE_FAULT_SQL)
        return super().executescript(script)


class SqliteFaultConnection(sqlite3.Connection):
    def close(self):
        TRACKER.released(self)
        return super().close()

    def cursor(self, factory=SqliteFaultCursor):
        return super().cursor(factory)

    def execute(self, sql, parameters=()):
        if FAULT.hit(sql):
            return super().execute(SQLITE_FAULT_SQL)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq):
        if FAULT.hit(sql):
            return super().execute(SQLITE_FAULT_SQL)
        return super().executemany(sql, seq)

    def executescript(self, script):
        if FAULT.hit(script):
            return super().execute(SQLITE_FAULT_SQL)
        return super().executescript(script)


def _sqlite_is_open(conn):
    try:
        conn.total_changes
        return True
    except sqlite3.ProgrammingError:
        return False


def _direct_is_open(rec):
    t = rec.target
    if rec.library == "sqlite3":
        return _sqlite_is_open(t)
    if rec.library == "psycopg2":
        return t.closed == 0
    if rec.library == "psycopg":
        return not t.closed
    if rec.library == "asyncpg":
        return not t.is_closed()
    return False


# --------------------------------------------------------------------------------------------
# PostgreSQL side of the measurement: backends that carry the run's application_name.
class Monitor:
    def __init__(self, pg):
        self.pg = pg
        self.conn = None
        if pg is not None:
            self.conn = psycopg2.extensions.connection(
                _libpq_dsn(pg, "connlint-harness-monitor"))
            self.conn.autocommit = True

    def backends(self, app):
        if self.conn is None:
            return 0
        with self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                        " AND backend_type = 'client backend'", (app,))
            return cur.fetchone()[0]

    def backend_ids(self, app):
        """The client backends of `app` as (pid, backend_start): a backend's identity even if
        the OS reuses its PID."""
        if self.conn is None:
            return set()
        with self.conn.cursor() as cur:
            cur.execute("SELECT pid, backend_start::text FROM pg_stat_activity"
                        " WHERE application_name = %s AND backend_type = 'client backend'",
                        (app,))
            return set(cur.fetchall())

    def terminate(self, app, wait=5.0):
        if self.conn is None:
            return
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = %s AND pid <> pg_backend_pid()", (app,))
        end = time.monotonic() + wait
        while self.backends(app) and time.monotonic() < end:
            time.sleep(0.02)


def _libpq_dsn(pg, app):
    return (f"host={pg['host']} port={pg['port']} dbname={pg['dbname']} user={pg['user']}"
            f" application_name={app}")


def _pg_url(pg, app):
    """The same as a URL, which psycopg2, psycopg, asyncpg and SQLAlchemy all accept; passed as
    `url`, and set as DATABASE_URL for module-level code (a pool built at import)."""
    return (f"postgresql://{pg['user']}@/{pg['dbname']}?host={pg['host']}&port={pg['port']}"
            f"&application_name={app}")


# --------------------------------------------------------------------------------------------
# Runtimes: what a case gets for `pool`, `engine`, `dsn`, `path`, and how to read the library's
# own statistics.
class Runtime:
    name = "?"
    provides = ()
    is_async = False

    def __init__(self, job, monitor):
        self.job = job
        self.monitor = monitor
        self.app = None
        self.objects = {}

    # -- per run
    def setup(self, app):
        self.app = app
        self.objects = {}
        if self.job.get("pg"):
            os.environ["DATABASE_URL"] = _pg_url(self.job["pg"], app)

    def args(self):
        return dict(self.objects)

    def bind_module(self, module):
        pass

    def skip_ids(self):
        return {id(v) for v in self.objects.values()}

    def is_out(self, rec):
        return _direct_is_open(rec)

    def library_counts(self):
        """(checked out, idle) according to the pool library, or None without a pool."""
        return None

    def cleanup(self):
        for rec in TRACKER.records:
            if not rec.pooled:
                with contextlib.suppress(Exception):
                    if rec.library == "asyncpg":
                        rec.target.terminate()
                    else:
                        rec.target.close()
        if self.monitor is not None and self.app:
            self.monitor.terminate(self.app)

    # -- the consumer's side for yielded / lent objects: one statement of database work
    def use(self, obj):
        if psycopg2 is not None and isinstance(obj, psycopg2.extensions.connection):
            with obj.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            return True
        if psycopg is not None and isinstance(obj, psycopg.Connection):
            obj.execute("SELECT 1").fetchone()
            return True
        if isinstance(obj, sqlite3.Connection):
            obj.execute("SELECT 1").fetchone()
            return True
        if sqlalchemy is not None and isinstance(
                obj, (sqlalchemy.engine.Connection, sqlalchemy.orm.Session)):
            obj.execute(sqlalchemy.text("SELECT 1")).scalar()
            return True
        if sqlalchemy is not None and isinstance(obj, sqlalchemy.pool.PoolProxiedConnection):
            cur = obj.cursor()
            cur.execute("SELECT 1")
            cur.fetchone()
            cur.close()
            return True
        return False

    async def ause(self, obj):
        if asyncpg is not None and isinstance(
                obj, (asyncpg.Connection, asyncpg.pool.PoolConnectionProxy)):
            await obj.fetchval("SELECT 1")
            return True
        return self.use(obj)


class Sqlite3Runtime(Runtime):
    name = "sqlite3"
    provides = ("path",)

    def setup(self, app):
        super().setup(app)
        path = os.path.join(self.job["workdir"], app + ".db")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self.objects = {"path": path}


class Psycopg2Runtime(Runtime):
    name = "psycopg2"
    provides = ("dsn", "pool", "url")

    def setup(self, app):
        super().setup(app)
        dsn = _libpq_dsn(self.job["pg"], app)
        self.pool = TrackedPsycopg2Pool(1, 3, dsn, cursor_factory=Psycopg2FaultCursor)
        self.objects = {"dsn": dsn, "pool": self.pool, "url": _pg_url(self.job["pg"], app)}

    def is_out(self, rec):
        if rec.pooled:
            return self.pool._is_out(rec.target)
        return _direct_is_open(rec)

    def library_counts(self):
        return len(self.pool._used), len(self.pool._pool)

    def cleanup(self):
        with contextlib.suppress(Exception):
            self.pool.closeall()
        super().cleanup()


class PsycopgPoolRuntime(Runtime):
    name = "psycopg-pool"
    provides = ("dsn", "pool", "url")

    def setup(self, app):
        super().setup(app)
        dsn = _libpq_dsn(self.job["pg"], app)
        self.pool = TrackedPsycopgPool(
            dsn, min_size=1, max_size=3, open=False, timeout=5.0, name=app,
            connection_class=PsycopgTrackedConnection,
            kwargs={"cursor_factory": PsycopgFaultCursor})
        self.pool._clh_out = set()
        self.pool.open(wait=True, timeout=10.0)
        self.objects = {"dsn": dsn, "pool": self.pool, "url": _pg_url(self.job["pg"], app)}

    def is_out(self, rec):
        if rec.pooled:
            return id(rec.target) in self.pool._clh_out
        return _direct_is_open(rec)

    def library_counts(self):
        stats = self.pool.get_stats()
        return (stats["pool_size"] - stats["pool_available"], stats["pool_available"])

    def cleanup(self):
        for rec in TRACKER.records:
            if rec.pooled and id(rec.target) in self.pool._clh_out:
                with contextlib.suppress(Exception):
                    self.pool.putconn(rec.target)
        with contextlib.suppress(Exception):
            self.pool.close(timeout=2.0)
        super().cleanup()


class AsyncpgRuntime(Runtime):
    name = "asyncpg"
    provides = ("dsn", "pool", "url")
    is_async = True

    async def asetup(self, app):
        Runtime.setup(self, app)
        pg = self.job["pg"]
        self.pool = TrackedAsyncpgPool(
            host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"],
            server_settings={"application_name": app}, min_size=1, max_size=3,
            max_queries=50000, max_inactive_connection_lifetime=0.0,
            connection_class=AsyncpgFaultConnection, record_class=asyncpg.Record,
            connect=None, setup=None, init=None, reset=None, loop=None)
        await self.pool
        dsn = _pg_url(pg, app)
        self.objects = {"dsn": dsn, "pool": self.pool, "url": dsn}

    def is_out(self, rec):
        if rec.pooled:
            return rec.target._con is not None
        return _direct_is_open(rec)

    def library_counts(self):
        size, idle = self.pool.get_size(), self.pool.get_idle_size()
        return size - idle, idle

    def cleanup(self):
        with contextlib.suppress(Exception):
            self.pool.terminate()
        super().cleanup()


class SqlalchemyRuntime(Runtime):
    name = "sqlalchemy"
    provides = ("engine", "dsn", "url")

    def setup(self, app):
        super().setup(app)
        pg = self.job["pg"]
        url = sqlalchemy.engine.URL.create(
            "postgresql+psycopg2", username=pg["user"], database=pg["dbname"],
            query={"host": pg["host"], "port": str(pg["port"])})
        self.engine = sqlalchemy.create_engine(
            url, pool_size=2, max_overflow=1, pool_timeout=5,
            connect_args={"application_name": app, "cursor_factory": Psycopg2FaultCursor})
        self.out = {}  # id(record) -> Rec

        def on_checkout(dbapi_conn, record, fairy):
            rec = TRACKER.add(fairy, "sqlalchemy", pooled=True, pg=True)
            if rec is not None:
                self.out[id(record)] = rec

        def on_checkin(dbapi_conn, record):
            rec = self.out.pop(id(record), None)
            if rec is not None:
                TRACKER.released(rec.target)
                rec.returned = True

        sqlalchemy.event.listen(self.engine.pool, "checkout", on_checkout)
        sqlalchemy.event.listen(self.engine.pool, "checkin", on_checkin)
        # The dialect runs its start-up queries on the first connection: do that now, not
        # inside the case (they would count as the case's statements).
        with self.engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        self.objects = {"engine": self.engine, "dsn": _libpq_dsn(pg, app),
                        "url": _pg_url(pg, app)}

    def bind_module(self, module):
        # A module-level `sessionmaker()` left unbound is bound at the application's start-up
        # (`SessionLocal.configure(bind=engine)`): the harness plays that start-up.
        for value in list(vars(module).values()):
            if isinstance(value, sqlalchemy.orm.sessionmaker) and value.kw.get("bind") is None:
                value.configure(bind=self.engine)

    def skip_ids(self):
        return super().skip_ids() | {id(self.engine.pool)}

    def is_out(self, rec):
        if rec.pooled:
            return not rec.returned
        return _direct_is_open(rec)

    def library_counts(self):
        return self.engine.pool.checkedout(), self.engine.pool.checkedin()

    def cleanup(self):
        for rec in list(self.out.values()):
            with contextlib.suppress(Exception):
                rec.target.invalidate()
        self.out = {}
        with contextlib.suppress(Exception):
            self.engine.dispose()
        super().cleanup()


RUNTIMES = {
    "sqlite3": Sqlite3Runtime,
    "psycopg2": Psycopg2Runtime,
    "psycopg2-pool": Psycopg2Runtime,
    "psycopg-pool": PsycopgPoolRuntime,
    "asyncpg": AsyncpgRuntime,
    "sqlalchemy": SqlalchemyRuntime,
}
RUNTIME = None  # the Runtime of this driver process


# --------------------------------------------------------------------------------------------
# Cases: import, enumerate, decide how to call.
_IMPORTS = [0]


def import_case(path, file_id):
    _IMPORTS[0] += 1
    name = f"connlint_case_{file_id}_{_IMPORTS[0]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _unwrap(obj):
    seen = 0
    while hasattr(obj, "__wrapped__") and seen < 10:
        obj = obj.__wrapped__
        seen += 1
    return obj


def _defined_here(func, path):
    return isinstance(func, types.FunctionType) and func.__code__.co_filename == path


def _line_range(func):
    try:
        lines, start = inspect.getsourcelines(func)
        return start, start + len(lines) - 1
    except (OSError, TypeError):
        return func.__code__.co_firstlineno, func.__code__.co_firstlineno


def _required_params(func, skip_first=False):
    params = list(inspect.signature(func).parameters.values())
    if skip_first and params:
        params = params[1:]
    return [p.name for p in params
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _kind(attr):
    raw = _unwrap(attr)
    if attr is raw or not hasattr(attr, "__wrapped__"):
        if inspect.isgeneratorfunction(raw):
            return "generator"
        if inspect.isasyncgenfunction(raw):
            return "async-generator"
        if inspect.iscoroutinefunction(raw):
            return "coroutine"
        return "function"
    if inspect.isgeneratorfunction(raw):
        return "contextmanager"
    if inspect.isasyncgenfunction(raw):
        return "async-contextmanager"
    if inspect.iscoroutinefunction(raw):
        return "coroutine"
    return "function"


def enumerate_functions(module, path, provides):
    """Every top-level function and every method of a top-level class defined in the file, in
    source order, with whether and how the harness calls it."""
    entries = {}

    def add(qualname, attr, owner_cls, method_kind):
        func = _unwrap(attr)
        if not _defined_here(func, path) or qualname in entries:
            return
        start, end = _line_range(func)
        entry = {"name": qualname, "line": start, "end_line": end, "kind": _kind(attr),
                 "status": "run", "reason": None}
        short = qualname.rsplit(".", 1)[-1]
        missing = []
        if short.startswith("_"):
            entry["status"], entry["reason"] = "skip-private", "private (name starts with `_`)"
        else:
            missing = [p for p in _required_params(func, skip_first=method_kind == "method")
                       if p not in provides]
            if owner_cls is not None and method_kind == "method":
                init = owner_cls.__init__
                if isinstance(init, types.FunctionType):
                    missing += [f"{owner_cls.__name__}({p})"
                                for p in _required_params(init, skip_first=True)
                                if p not in provides]
            if missing:
                entry["status"] = "skip-cannot-call"
                entry["reason"] = "cannot call: no value for " + ", ".join(
                    f"`{m}`" for m in missing)
        entries[qualname] = (entry, func.__code__.co_firstlineno)

    for name, value in vars(module).items():
        if isinstance(value, type) and value.__module__ == module.__name__:
            for mname, mvalue in vars(value).items():
                if isinstance(mvalue, staticmethod):
                    add(f"{value.__qualname__}.{mname}", mvalue.__func__, value, "static")
                elif isinstance(mvalue, classmethod):
                    add(f"{value.__qualname__}.{mname}", mvalue.__func__, value, "class")
                elif isinstance(_unwrap(mvalue), types.FunctionType):
                    add(f"{value.__qualname__}.{mname}", mvalue, value, "method")
        else:
            func = _unwrap(value)
            if isinstance(func, types.FunctionType) and func.__qualname__ == func.__name__:
                add(func.__qualname__, value, None, "function")
    ordered = sorted(entries.values(), key=lambda e: e[1])
    return [e for e, _ in ordered]


def resolve(module, qualname):
    """The callable for `qualname` in a fresh module, constructing the instance for a method.
    Returns (callable, instance or None)."""
    parts = qualname.split(".")
    if len(parts) == 1:
        return getattr(module, parts[0]), None
    cls = getattr(module, parts[0])
    for p in parts[1:-1]:
        cls = getattr(cls, p)
    raw = cls.__dict__[parts[-1]]
    if isinstance(raw, (staticmethod, classmethod)):
        return getattr(cls, parts[-1]), None
    init = cls.__init__
    kwargs = {}
    if isinstance(init, types.FunctionType):
        for p in list(inspect.signature(init).parameters)[1:]:
            if p in RUNTIME.objects:
                kwargs[p] = RUNTIME.objects[p]
    instance = cls(**kwargs)
    return getattr(instance, parts[-1]), instance


def call_args(func):
    params = inspect.signature(func).parameters
    return {p: RUNTIME.objects[p] for p in params if p in RUNTIME.objects}


# --------------------------------------------------------------------------------------------
# Driving one call. The harness is the caller: it awaits coroutines, enters context managers
# (using the lent object for one statement of database work in the body), and consumes
# generators (using each item), throwing the body's exception into the generator the way a
# `with` statement or a FastAPI-style dependency runner does.
MAX_ITEMS = 50


class Outcome:
    def __init__(self):
        self.value = None
        self.yielded = []
        self.exit = "return"
        self.exception = None


def drive_sync(kind, func, args, out):
    result = func(**args)
    if kind == "contextmanager" and hasattr(result, "__enter__"):
        with result as lent:
            RUNTIME.use(lent)
        return
    if kind == "generator" and inspect.isgenerator(result):
        gen = result
        try:
            item = next(gen)
            while len(out.yielded) < MAX_ITEMS:
                out.yielded.append(item)
                try:
                    RUNTIME.use(item)
                except Exception as exc:  # the consumer's work failed: tell the generator
                    item = gen.throw(exc)
                    continue
                item = next(gen)
            gen.close()
        except StopIteration as stop:
            out.value = stop.value
        return
    if inspect.iscoroutine(result):
        result.close()
        raise HarnessError("coroutine returned in a synchronous runtime")
    out.value = result


async def drive_async(kind, func, args, out):
    result = func(**args)
    if kind == "async-contextmanager" and hasattr(result, "__aenter__"):
        async with result as lent:
            await RUNTIME.ause(lent)
        return
    if kind == "contextmanager" and hasattr(result, "__enter__"):
        with result as lent:
            await RUNTIME.ause(lent)
        return
    if kind == "async-generator" and inspect.isasyncgen(result):
        gen = result
        try:
            item = await gen.__anext__()
            while len(out.yielded) < MAX_ITEMS:
                out.yielded.append(item)
                try:
                    await RUNTIME.ause(item)
                except Exception as exc:
                    item = await gen.athrow(exc)
                    continue
                item = await gen.__anext__()
            await gen.aclose()
        except StopAsyncIteration:
            pass
        return
    if kind == "generator" and inspect.isgenerator(result):
        gen = result
        try:
            item = next(gen)
            while len(out.yielded) < MAX_ITEMS:
                out.yielded.append(item)
                try:
                    await RUNTIME.ause(item)
                except Exception as exc:
                    item = gen.throw(exc)
                    continue
                item = next(gen)
            gen.close()
        except StopIteration as stop:
            out.value = stop.value
        return
    if inspect.isawaitable(result):
        result = await result
    out.value = result


def _on_alarm(signum, frame):
    raise HarnessDeadline()


# --------------------------------------------------------------------------------------------
def measure(out, roots, producer):
    """What is still checked out / open, and which of it the caller was handed."""
    outs = [r for r in TRACKER.records if RUNTIME.is_out(r)]
    root_list = list(roots)
    if producer:
        root_list.extend(out.yielded)
    reached = reachable_targets(root_list, {id(r.target) for r in outs}, RUNTIME.skip_ids())
    leaked = [r for r in outs if id(r.target) not in reached]
    transferred = [r for r in outs if id(r.target) in reached]
    counts = {"tracked_out": len(outs)}
    lib = RUNTIME.library_counts()
    expected_pg = sum(1 for r in outs if r.pg)
    if lib is not None:
        lib_out, lib_idle = lib
        counts["library_out"] = lib_out
        counts["library_idle"] = lib_idle
        tracked_pooled = sum(1 for r in outs if r.pooled)
        if lib_out != tracked_pooled:
            # psycopg_pool/asyncpg may still be settling (a bad connection being replaced)
            time.sleep(0.2)
            lib_out, lib_idle = RUNTIME.library_counts()
            counts["library_out"], counts["library_idle"] = lib_out, lib_idle
        if lib_out != tracked_pooled:
            raise HarnessError(
                f"pool statistics say {lib_out} checked out, the tracker {tracked_pooled}")
    else:
        lib_idle = 0
    if RUNTIME.monitor is not None and RUNTIME.monitor.conn is not None:
        # Backends that are not idle in a pool: open connections the case holds. A closed
        # connection's backend exits asynchronously, so wait a little for it to converge.
        deadline = time.monotonic() + 3.0
        while True:
            lib = RUNTIME.library_counts()
            lib_idle = lib[1] if lib is not None else 0
            # connections of pools the case built itself are not tracked (CasePools)
            case_pools = CASE_POOLS.open_connections()
            pg_out = RUNTIME.monitor.backends(RUNTIME.app) - lib_idle - case_pools
            if pg_out == expected_pg or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        counts["pg_out"] = pg_out
        if pg_out != expected_pg:
            raise HarnessError(
                f"pg_stat_activity shows {pg_out} backends in use, the tracker {expected_pg}")
    return leaked, transferred, counts


def run_once(entry, run_index, fault_at, producer_hint):
    """One call of one function; returns the run record (raises HarnessError on harness
    failure)."""
    qualname = entry["name"]
    app = f"clh-{JOB['file_id']}-{run_index:02d}-{ENTRY_INDEX[qualname]:02d}"
    if RUNTIME.is_async:
        return asyncio.run(_run_once_async(entry, app, fault_at, producer_hint))
    RUNTIME.setup(app)
    try:
        return _run_body(entry, fault_at, producer_hint, sync=True)
    finally:
        _finish_run()


async def _run_once_async(entry, app, fault_at, producer_hint):
    await RUNTIME.asetup(app)
    try:
        return await _run_body_async(entry, fault_at, producer_hint)
    finally:
        _finish_run()


def _finish_run():
    FAULT.active = False
    TRACKER.enabled = False
    gc.enable()
    try:
        CASE_POOLS.close_all()
        RUNTIME.cleanup()
    finally:
        TRACKER.clear()
        gc.collect()


def _prepare(entry, fault_at):
    CASE_POOLS.enabled = True
    module = import_case(CASE["path"], JOB["file_id"])
    RUNTIME.bind_module(module)
    FAULT.reset(fault_at)
    FINALIZING[0] = 0
    _FINALIZER_FRAMES.clear()
    TRACKER.clear()
    TRACKER.enabled = True
    gc.disable()
    # constructing the instance of a method is set-up: tracked, but not fault-injected
    func, instance = resolve(module, entry["name"])
    FAULT.active = True
    return module, func, instance


def _roots(module, instance, out):
    roots = [out.value]
    if instance is not None:
        roots.append(instance)
    for value in vars(module).values():
        if not isinstance(value, (types.ModuleType, type, types.FunctionType)):
            roots.append(value)
    return roots


def _record(entry, module, instance, out, fault_at, producer_hint):
    FAULT.active = False
    TRACKER.enabled = False
    if entry["kind"] in ("generator", "async-generator") and producer_hint is None:
        # Normal run decides: a generator whose yielded items still hold connections when it
        # has finished hands them to its consumer (a producer); one that gave back everything
        # it yielded owns them and only lends them (a FastAPI-style dependency).
        outs = [r for r in TRACKER.records if RUNTIME.is_out(r)]
        held = reachable_targets(out.yielded, {id(r.target) for r in outs}, RUNTIME.skip_ids())
        producer = bool(held)
    else:
        producer = bool(producer_hint)
    leaked, transferred, counts = measure(out, _roots(module, instance, out), producer)
    if leaked:
        # A wrapper caught in a reference cycle is finalized by the cycle collector, later but
        # surely: run it now (with the finalizer tracking on) before calling anything a leak.
        sys.setprofile(_profile)
        try:
            gc.collect()
        finally:
            sys.setprofile(None)
        leaked = [r for r in leaked if RUNTIME.is_out(r)]
    finalized = [r for r in TRACKER.records
                 if r.released_by == "finalizer" and not RUNTIME.is_out(r)]

    def split(recs):
        mine, elsewhere = [], []
        for rec in recs:
            owner = rec.owner
            item = {"owner": owner, "line": rec.line, "what": rec.describe()}
            if owner not in (None, "<caller>", entry["name"]) and owner in RUN_SET:
                elsewhere.append(item)
            else:
                mine.append(item)
        return mine, elsewhere

    mine, elsewhere = split(leaked)
    fin_mine, fin_elsewhere = split(finalized)
    record = {
        "fault_at": fault_at,
        "fault_fired": FAULT.fired,
        "statements": FAULT.count,
        "exit": out.exit,
        "exception": out.exception,
        "leaks": mine,
        "leaks_in_callees": elsewhere,
        "released_by_finalizer": fin_mine,
        "released_by_finalizer_in_callees": fin_elsewhere,
        "transferred": len(transferred),
        "counts": counts,
    }
    if entry["kind"] in ("generator", "async-generator"):
        record["producer"] = producer
    out.yielded = []
    return record


def _describe_exc(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]


def _run_body(entry, fault_at, producer_hint, sync):
    module, func, instance = None, None, None
    out = Outcome()
    deadline = JOB["deadline"]
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        sys.setprofile(_profile)
        try:
            module, func, instance = _prepare(entry, fault_at)
            drive_sync(entry["kind"], func, call_args(func), out)
        except HarnessDeadline:
            raise HarnessError(f"deadline of {deadline:g} s exceeded (hung)")
        except HarnessError:
            raise
        except Exception as exc:
            if module is None or func is None:
                raise HarnessError(f"could not prepare the call: {_describe_exc(exc)}")
            out.exit, out.exception = "raise", _describe_exc(exc)
            exc.__traceback__ = None
        finally:
            sys.setprofile(None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return _record(entry, module, instance, out, fault_at, producer_hint)


async def _run_body_async(entry, fault_at, producer_hint):
    module, func, instance = None, None, None
    out = Outcome()
    deadline = JOB["deadline"]
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    # backstop for code that blocks the event loop
    signal.setitimer(signal.ITIMER_REAL, deadline + 2.0)
    try:
        sys.setprofile(_profile)
        try:
            module, func, instance = _prepare(entry, fault_at)
            await asyncio.wait_for(drive_async(entry["kind"], func, call_args(func), out),
                                   deadline)
        except (HarnessDeadline, asyncio.TimeoutError):
            raise HarnessError(f"deadline of {deadline:g} s exceeded (hung)")
        except HarnessError:
            raise
        except Exception as exc:
            if module is None or func is None:
                raise HarnessError(f"could not prepare the call: {_describe_exc(exc)}")
            out.exit, out.exception = "raise", _describe_exc(exc)
            exc.__traceback__ = None
        finally:
            sys.setprofile(None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return _record(entry, module, instance, out, fault_at, producer_hint)


# --------------------------------------------------------------------------------------------
# The per-call-pool run (CL005): the function is called several times in ONE process and ONE
# import of its module (module-level state persists, as in a server), and the harness counts the
# pools each call builds and the server connections they open.
PER_CALL_MIN_CALLS = 3
PER_CALL_MAX_CALLS = 11


def _per_call_begin(entry):
    PER_CALL.reset()
    CASE_POOLS.items = []
    CASE_POOLS.call = 0
    CASE_POOLS.enabled = True
    try:
        module = import_case(CASE["path"], JOB["file_id"])
        RUNTIME.bind_module(module)
        func, instance = resolve(module, entry["name"])
    except Exception as exc:
        raise HarnessError(f"per-call run: could not prepare the call: {_describe_exc(exc)}")
    # the baseline: the harness's pool and whatever the import (module-level pools) opened
    PER_CALL.snapshot()
    PER_CALL.active = True
    return module, func, instance


def _per_call_start(k):
    with PER_CALL.lock:
        PER_CALL.call = k
    CASE_POOLS.call = k


def _per_call_after(k, module, instance, out, calls):
    """Records call k: the pools it built, which of them it handed to its caller (reachable from
    the return value, yielded items, the instance or the module's globals: a factory or a
    cache), and their maximum sizes. Returns how many calls to make in all."""
    PER_CALL.snapshot()
    built = [item for item in CASE_POOLS.items if item["call"] == k]
    live = {id(obj): item for item, obj in CASE_POOLS.live() if item["call"] == k}
    roots = _roots(module, instance, out) + list(out.yielded)
    kept_ids = reachable_targets(roots, set(live), RUNTIME.skip_ids())
    kept = {live[i]["index"] for i in kept_ids}
    for item in built:
        item["kept"] = item["index"] in kept
    calls.append({"call": k, "exit": out.exit, "exception": out.exception,
                  "pools_built": len(built), "pools_kept": len(kept),
                  "max_sizes": [item["max"] for item in built if not item["kept"]]})
    out.value = None
    out.yielded = []
    if k > 1:
        return None
    sizes = calls[0]["max_sizes"]
    if not sizes or any(m is None for m in sizes):
        return PER_CALL_MIN_CALLS
    return min(max(PER_CALL_MIN_CALLS, max(sizes) + 1), PER_CALL_MAX_CALLS)


def _per_call_verdict(calls):
    """per_call_pool when EVERY call built at least one pool it did not hand to its caller and
    opened at least one server connection through such a pool, and the calls together opened
    more server connections than the largest of those pools may hold (the harness makes
    max_size + 1 calls, so one connection per call is enough); clean when no call after the
    first built a pool it did not hand over. Anything in between is inconclusive (an error).
    The connections are the PostgreSQL backends of the run's application_name that appeared
    during the calls, and they must be exactly those the libraries reported opening."""
    # A pool's worker thread may still be opening a connection the server already shows (a
    # psycopg_pool filling itself in the background): wait for the library to report it
    # (up to 3 s), as for the backends of a closed connection in `measure`.
    deadline = time.monotonic() + 3.0
    while True:
        with PER_CALL.lock:
            PER_CALL._snapshot()
            server = {pid for (pid, _), call in PER_CALL.seen.items() if call > 0}
            missing = server - {e["pid"] for e in PER_CALL.events}
            if not missing or time.monotonic() > deadline:
                PER_CALL.active = False
                break
        time.sleep(0.05)
    if PER_CALL.errors:
        raise HarnessError(f"per-call run: {PER_CALL.errors[0]}")
    new = {ident for ident, call in PER_CALL.seen.items() if call > 0}
    events = PER_CALL.events
    server_pids = sorted(pid for pid, _ in new)
    library_pids = sorted(e["pid"] for e in events)
    if server_pids != library_pids:
        raise HarnessError(
            f"per-call run: pg_stat_activity shows {len(new)} new backend(s) {server_pids}, the"
            f" libraries opened {len(events)} connection(s) {library_pids}")
    not_kept = {item["index"] for item in CASE_POOLS.items if not item.get("kept", True)}
    for c in calls:
        c["connections"] = sum(1 for e in events if e["call"] == c["call"])
        c["opened_by_its_pools"] = sum(1 for e in events if e["call"] == c["call"]
                                       and e["by"] == "new-pool" and e["pool"] in not_kept)
        c["pools_not_kept"] = c["pools_built"] - c["pools_kept"]
    def per_call(key):
        return "/".join(str(c[key]) for c in calls)

    sizes = [m for c in calls for m in c["max_sizes"]]
    largest = None if not sizes or any(m is None for m in sizes) else max(sizes)
    total = sum(c["opened_by_its_pools"] for c in calls)
    note = (f"{len(calls)} calls in one process: pools built {per_call('pools_built')}"
            f" (handed to the caller {per_call('pools_kept')}), server connections opened by"
            f" the others {per_call('opened_by_its_pools')} (pg_stat_activity)")
    if sizes:
        note += f", largest pool maximum {largest if largest is not None else 'unbounded'}"
    record = {"kind": "per-call", "note": note, "calls": calls, "events": events,
              "total_opened": total, "largest_max": largest}
    if all(c["pools_not_kept"] == 0 for c in calls[1:]):
        return False, record
    if all(c["pools_not_kept"] >= 1 and c["opened_by_its_pools"] >= 1 for c in calls):
        if largest is not None and total <= largest:
            raise HarnessError(f"per-call run inconclusive: {note}; {total} connection(s) do not"
                               f" exceed the pool maximum {largest}")
        return True, record
    raise HarnessError(f"per-call run inconclusive: {note}")


def run_per_call(entry):
    app = f"clh-{JOB['file_id']}-pc-{ENTRY_INDEX[entry['name']]:02d}"
    if RUNTIME.is_async:
        return asyncio.run(_run_per_call_async(entry, app))
    RUNTIME.setup(app)
    try:
        module, func, instance = _per_call_begin(entry)
        calls, n, k = [], PER_CALL_MIN_CALLS, 0
        while k < n:
            k += 1
            emit(event="run", name=entry["name"], index=100 + k)
            _per_call_start(k)
            out = Outcome()
            deadline = JOB["deadline"]
            previous = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, deadline)
            try:
                drive_sync(entry["kind"], func, call_args(func), out)
            except HarnessDeadline:
                raise HarnessError(f"per-call run: deadline of {deadline:g} s exceeded (hung)")
            except HarnessError:
                raise
            except Exception as exc:
                out.exit, out.exception = "raise", _describe_exc(exc)
                exc.__traceback__ = None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            n = _per_call_after(k, module, instance, out, calls) or n
        return _per_call_verdict(calls)
    finally:
        PER_CALL.reset()
        _finish_run()


async def _run_per_call_async(entry, app):
    await RUNTIME.asetup(app)
    try:
        module, func, instance = _per_call_begin(entry)
        calls, n, k = [], PER_CALL_MIN_CALLS, 0
        while k < n:
            k += 1
            emit(event="run", name=entry["name"], index=100 + k)
            _per_call_start(k)
            out = Outcome()
            deadline = JOB["deadline"]
            previous = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, deadline + 2.0)
            try:
                await asyncio.wait_for(drive_async(entry["kind"], func, call_args(func), out),
                                       deadline)
            except (HarnessDeadline, asyncio.TimeoutError):
                raise HarnessError(f"per-call run: deadline of {deadline:g} s exceeded (hung)")
            except HarnessError:
                raise
            except Exception as exc:
                out.exit, out.exception = "raise", _describe_exc(exc)
                exc.__traceback__ = None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            n = _per_call_after(k, module, instance, out, calls) or n
        return _per_call_verdict(calls)
    finally:
        PER_CALL.reset()
        _finish_run()


# --------------------------------------------------------------------------------------------
RANK = {"normal": 0, "exception": 1, "finalizer": 2}


def verdict(runs):
    """Leak classes over all runs: a connection still checked out/open when the function
    returned (in the normal run or after a fault it swallowed) is `normal` (CL001/CL008); one
    left only when the function raised is `exception` (CL002); one given back only by a
    `__del__`/weakref.finalize finalizer is `finalizer` (CL003). Grouped per acquisition line, so
    one acquisition counts once, with the first of normal > exception > finalizer, as the rules
    partition it."""
    groups = {}
    for run in runs:
        found = [(leak["line"], "normal" if run["exit"] == "return" else "exception")
                 for leak in run["leaks"]]
        found += [(item["line"], "finalizer") for item in run["released_by_finalizer"]]
        for key, cls in found:
            if key not in groups or RANK[cls] < RANK[groups[key]]:
                groups[key] = cls
    return sorted(set(groups.values()), key=RANK.get)


def run_function(entry):
    runs = []
    normal = run_once(entry, 0, None, None)
    runs.append(normal)
    producer = normal.get("producer")
    points = min(normal["statements"], JOB["max_fault_points"])
    for i in range(1, points + 1):
        emit(event="run", name=entry["name"], index=i)
        runs.append(run_once(entry, i, i, producer))
    classes = verdict(runs)
    measured = ["normal", "exception", "finalizer"]
    if RUNTIME.monitor is not None and RUNTIME.monitor.conn is not None:
        measured.append("per_call_pool")
        per_call, record = run_per_call(entry)
        runs.append(record)
        if per_call:
            classes.append("per_call_pool")
    return {"verdict": "leak" if classes else "clean", "classes": classes, "runs": runs,
            "measured": measured}


JOB = {}
ENTRY_INDEX = {}
RUN_SET = set()


def main():
    global RUNTIME
    with open(sys.argv[1], encoding="utf-8") as fh:
        JOB.update(json.load(fh))
    CASE["path"] = os.path.abspath(JOB["case"])
    CASE["corpus"] = os.path.abspath(JOB["corpus_root"]) + os.sep
    os.makedirs(JOB["workdir"], exist_ok=True)
    runtime_cls = RUNTIMES.get(JOB["runtime"])
    if runtime_cls is None:
        emit(event="file-error", message=f"runtime `{JOB['runtime']}` is not supported")
        emit(event="done")
        return 0
    try:
        load_libraries(RUNTIME_LIBRARIES[JOB["runtime"]])
        monitor = Monitor(JOB["pg"]) if JOB.get("pg") and psycopg2 is not None else None
        RUNTIME = runtime_cls(JOB, monitor)
        # module-level code may build a pool from DATABASE_URL: give this first import its own
        # application_name and close what it opened
        import_app = f"clh-{JOB['file_id']}-import"
        if JOB.get("pg"):
            os.environ["DATABASE_URL"] = _pg_url(JOB["pg"], import_app)
        CASE_POOLS.enabled = True
        module = import_case(CASE["path"], JOB["file_id"])
        functions = enumerate_functions(module, CASE["path"], runtime_cls.provides)
        del module
        CASE_POOLS.close_all()
        if monitor is not None:
            monitor.terminate(import_app)
    except BaseException as exc:  # noqa: BLE001 - reported, not raised
        emit(event="file-error", message=f"cannot import the case: {_describe_exc(exc)}",
             traceback=traceback.format_exc())
        emit(event="done")
        return 0
    for i, entry in enumerate(functions):
        ENTRY_INDEX[entry["name"]] = i
    RUN_SET.update(e["name"] for e in functions if e["status"] == "run")
    emit(event="functions", functions=functions)
    only = JOB.get("only")
    for entry in functions:
        if entry["status"] != "run" or (only is not None and entry["name"] not in only):
            continue
        emit(event="begin", name=entry["name"])
        try:
            result = run_function(entry)
        except HarnessError as exc:
            result = {"verdict": "error", "error": str(exc), "classes": [], "runs": []}
        except BaseException as exc:  # noqa: BLE001
            result = {"verdict": "error", "error": f"harness failure: {_describe_exc(exc)}",
                      "traceback": traceback.format_exc(), "classes": [], "runs": []}
        emit(event="result", name=entry["name"], **result)
    emit(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
