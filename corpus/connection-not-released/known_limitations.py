# What connlint gets wrong today, recorded so it stays visible (and so a fix shows up as a
# test failure that asks for the annotation to be promoted or removed).
# confirm: psycopg2-pool


class Tracker:
    def __init__(self):
        self.kept = []

    def remember(self, conn):
        self.kept.append(conn)


# FIXME: a method of an object of unknown class that stores the connection is assumed to
# borrow it, so handing the connection over looks like a leak.
def hand_to_tracker(pool, tracker):
    conn = pool.getconn()  # expect-spurious: CL001
    tracker.remember(conn)


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
