# contextlib.ExitStack closes what enter_context() registered only when the stack itself
# is closed, as `with ExitStack() as stack:` does.
# confirm: sqlalchemy
from contextlib import ExitStack

from sqlalchemy import text


# the stack closes the connection when the `with ExitStack()` block exits
def select_values(engine, values=(1, 2)):
    with ExitStack() as stack:
        conn = stack.enter_context(engine.connect())
        return [conn.execute(text("SELECT :v"), {"v": v}).scalar() for v in values]


# the stack is never closed, so neither is the connection registered on it
def select_values_unclosed_stack(engine, values=(1, 2)):
    stack = ExitStack()
    conn = stack.enter_context(engine.connect())  # expect: CL001
    return [conn.execute(text("SELECT :v"), {"v": v}).scalar() for v in values]
