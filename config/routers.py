"""The database router: reads of reports and exports go to the replica, nothing else does.

Which reads go there is decided by the code that reads (core.replica.using_replica), not
guessed here. Without a replica (no DATABASE_REPLICA_URL) every method answers None and
Django's defaults apply, as if there were no router.
"""

from django.db import DEFAULT_DB_ALIAS

from core import replica
from core.replica import REPLICA

#: Aliases that hold the same data: a relation between their objects is allowed.
SAME_DATA = {DEFAULT_DB_ALIAS, REPLICA}


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if replica.reads_from_replica() else None

    def db_for_write(self, model, **hints):
        """Never the replica (it is read-only): an object read from it is saved to the
        primary. Any other write keeps Django's choice (default, or the alias it came from,
        such as the owner's connection during migrations)."""
        instance = hints.get("instance")
        if instance is not None and instance._state.db == REPLICA:
            return DEFAULT_DB_ALIAS
        return None

    def allow_relation(self, obj1, obj2, **hints):
        if {obj1._state.db, obj2._state.db} <= SAME_DATA:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        """The replica copies the primary's schema by replication: never migrate it."""
        if db == REPLICA and replica.has_replica():
            return False
        return None
