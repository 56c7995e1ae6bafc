"""How clinical and protocol models are put under the audit trail.

Every tracked model gets PostgreSQL triggers (django-pghistory) that copy the row on insert,
update and delete into an append-only event table, together with the request context
(user, url, reason). Triggers rather than signals so that nothing escapes the trail:
bulk updates, raw SQL and the admin are all recorded.
"""

import contextlib

import pghistory


def track(**kwargs):
    """Decorator for a model whose every change must be audited (21 CFR Part 11 §11.10(e)).

    Trackers are made anew for each model: pghistory binds a tracker to the model it tracks.
    """
    kwargs.setdefault("append_only", True)
    trackers = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
    return pghistory.track(*trackers, **kwargs)


def reason(text: str):
    """Attach a reason for change to every audit event written inside the block."""
    return pghistory.context(reason=text)


@contextlib.contextmanager
def acting(user, text: str | None = None):
    """Attach a user (and optionally a reason) outside a request: commands, tasks, tests."""
    metadata = {"user": user.pk if user is not None else None}
    if text:
        metadata["reason"] = text
    with pghistory.context(**metadata):
        yield
