"""Reading reports and exports from a read replica, when the deployment has one.

A report or an export reads a whole study (every form, every participant): on a busy
primary it competes with data entry. With DATABASE_REPLICA_URL set, settings add a
`replica` database alias (a streaming-replication standby of the primary), and code that
only reads says so explicitly:

    with using_replica():
        rows = build_the_export(study)

Inside the block, the database router (config.routers) sends every read to the replica;
writes still go to the primary, and an object read from the replica is saved to the
primary. Without the URL the block changes nothing: everything reads the primary.

Explicit rather than automatic: a page that reads then writes (and must see its own
write), or an access check that must see a membership revoked a second ago, stays on the
primary unless its author chose otherwise. Access checks belong outside the block. A replica
lags the primary by the replication delay (usually under a second), which an export or a
report can live with.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

#: The alias settings give the replica (config/settings.py).
REPLICA = "replica"

_reporting: ContextVar[bool] = ContextVar("reads_from_replica", default=False)


def has_replica() -> bool:
    return REPLICA in connections.settings


def reporting_alias() -> str:
    """The alias reports and exports read from: the replica if there is one."""
    return REPLICA if has_replica() else DEFAULT_DB_ALIAS


def reads_from_replica() -> bool:
    """True inside `using_replica()` when a replica is configured (the router asks this)."""
    return _reporting.get() and has_replica()


@contextmanager
def using_replica() -> Iterator[str]:
    """Send this block's reads to the replica (if any); yields the alias they use."""
    token = _reporting.set(True)
    try:
        yield reporting_alias()
    finally:
        _reporting.reset(token)
