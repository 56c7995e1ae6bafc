"""How clinical and protocol models are put under the audit trail.

Every tracked model gets PostgreSQL triggers (django-pghistory) that copy the row on insert,
update and delete into an append-only event table, together with the request context
(user, url, reason). Triggers rather than signals so that nothing escapes the trail:
bulk updates, raw SQL and the admin are all recorded.
"""

import contextlib
import json
import uuid

import pghistory
import pghistory.runtime
import pgtrigger

#: The trigger refusing DELETE on clinical records (and the privilege the app role lacks).
NO_HARD_DELETE = "no_hard_delete"


def track(**kwargs):
    """Decorator for a model whose every change must be audited (21 CFR Part 11 §11.10(e)).

    Trackers are made anew for each model: pghistory binds a tracker to the model it tracks.
    """
    kwargs.setdefault("append_only", True)
    trackers = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
    return pghistory.track(*trackers, **kwargs)


def clinical_record(**kwargs):
    """Decorator for clinical data: audited, and never hard-deleted, by rule of the database.

    Clinical records are voided or cancelled with a reason instead (ICH E6, 21 CFR Part 11);
    the trigger refuses a DELETE from any path, the admin and raw SQL included. (Test
    teardown uses TRUNCATE, which row triggers do not see.)
    """

    def decorate(model):
        model = track(**kwargs)(model)
        return pgtrigger.register(
            pgtrigger.Protect(name=NO_HARD_DELETE, operation=pgtrigger.Delete)
        )(model)

    return decorate


def reason(text: str):
    """Attach a reason for change to every audit event written inside the block."""
    return acting(None, text)


@contextlib.contextmanager
def acting(user, text: str | None = None):
    """Attach a user and a reason to the events written inside the block.

    Services call it with the acting user; in a request the middleware has already set the
    user, so a missing user (None) leaves it as it is rather than erasing it.

    The block gets a context of its own. pghistory nests contexts by merging the inner
    metadata into the outer one: every event shares one context row, which the database
    then rewrites with the last block's user and reason, so earlier changes of the same
    transaction would claim a reason that was not theirs. Here the outer context is set
    aside for the block (its metadata, such as the request's url, is inherited) and put
    back after it. pghistory keeps the current context in `runtime._tracker` and injects
    it into every statement while any context is entered.
    """
    metadata = {}
    if user is not None:
        metadata["user"] = user.pk
    if text:
        metadata["reason"] = text
    outer = getattr(pghistory.runtime._tracker, "value", None)
    if outer is None:
        with pghistory.context(**metadata):
            yield
        return
    pghistory.runtime._tracker.value = pghistory.runtime.Context(
        id=uuid.uuid4(), metadata={**outer.metadata, **metadata}
    )
    try:
        yield
    finally:
        pghistory.runtime._tracker.value = outer


def reason_in_migration(schema_editor, text: str) -> None:
    """Attach `text` as the reason to the audit events a data migration writes.

    Migrations run on the owner's connection (`migrate --database owner`), which `acting()`
    does not reach: pghistory attaches its context to the default connection only. This
    sets, for the rest of the migration's transaction, the two settings the audit triggers
    read (`_pgh_attach_context()`), on the migration's own connection.
    """
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true),"
            " set_config('pghistory.context_metadata', %s, true)",
            [str(uuid.uuid4()), json.dumps({"reason": text})],
        )
