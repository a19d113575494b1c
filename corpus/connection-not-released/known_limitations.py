# What connlint gets wrong today, recorded so it stays visible (and so a fix shows up as a
# test failure that asks for the annotation to be promoted or removed).
# confirm: psycopg2-pool


class Tracker:
    def __init__(self):
        self.kept = []

    def remember(self, conn):
        self.kept.append(conn)


class Audit:
    def __init__(self):
        self.seen = 0

    def record(self, conn):
        self.seen += 1


class Recorder:
    def __init__(self):
        self.kept = []

    def record(self, conn):
        self.kept.append(conn)


# the only class defining `remember` stores its argument: handing the connection over is
# recognised even though `tracker` has no known class
def hand_to_tracker(pool, tracker):
    conn = pool.getconn()
    tracker.remember(conn)


# FIXME: two classes define `record` (one stores, one does not); with the receiver's class
# unknown, the call is assumed to borrow the connection, which reports a leak that may not be
# there.
def hand_to_recorder(pool, recorder):
    conn = pool.getconn()  # expect-spurious: CL001
    recorder.record(conn)


# FIXME: a local list that is never returned still counts as a place that owns the
# connection; the connections in it are leaked.
def keep_in_local_list(pool):
    conns = []
    conns.append(pool.getconn())  # expect-missing: CL001
    return len(conns)


# FIXME: a closure that would release the connection is never called, but capturing the
# connection is taken as handing it over.
def unused_cleanup(pool):
    conn = pool.getconn()  # expect-missing: CL001

    def cleanup():
        pool.putconn(conn)

    return conn.closed
