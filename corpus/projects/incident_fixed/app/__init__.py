# The incident's code after the fix: the wrapper is a context manager, get_connection()
# gives back a failed attempt's connection, and the tools use `with`. __del__ stays as a
# fallback only. Nothing here may fire.
# confirm: none
