# Functions that never return on their own.
# confirm: sqlite3
import signal
import sqlite3


# spins in Python: the driver's deadline (SIGALRM) stops it
def spin(path):
    while True:
        pass


# ignores the deadline signal: only the harness's watchdog (killing the driver) stops it
def spin_ignoring_alarm(path):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass


# runs after the ones above, in a new driver: still confirmed
def leak_after_hangs(path):
    conn = sqlite3.connect(path)  # expect: CL001
    return conn.execute("SELECT 1").fetchone()[0]
