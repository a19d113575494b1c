# A method called on an object whose class is unknown is looked up by name, when the project
# defines that name only once. An object of a class from outside the project can be taken for
# the project's class that way.
# confirm: none
from cloud_sdk import TokenClient


class Reports:
    def __init__(self, pool):
        self.pool = pool

    def get_conn(self):
        return self.pool.getconn()


# FIXME: `TokenClient` comes from another package, yet its `get_conn` is taken for the
# project's only `get_conn`, which hands out a pooled connection: a leak is reported that is
# not there (Airflow's MySqlHook.get_iam_token, with an AWS hook's `get_conn`).
def token(host):
    client = TokenClient(host)
    session = client.get_conn()  # expect-spurious: CL001
    return session.token_for(host)
