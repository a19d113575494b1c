# Does not import: a file error, not a harness crash.
# confirm: sqlite3
import module_that_does_not_exist  # noqa: F401


def never_called(path):
    return path
