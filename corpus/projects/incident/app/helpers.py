# A closer in another module: gives a raw connection back to the adapter it came from.
# confirm: none
from app.db import _adapter_for


def give_back(project, conn):
    _adapter_for(project).release_connection(conn)
