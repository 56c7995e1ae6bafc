"""Reading the audit trail of one record: who, when, what changed (old → new), and why.

The events are written by database triggers (see `audit.tracking`); this module only reads
them, through pghistory's aggregate `Events` model, which also computes each event's diff.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.http import Http404
from pghistory.models import Events

#: Fields never shown in an audit trail whatever the user (secrets, not clinical data).
ALWAYS_HIDDEN = frozenset({"password"})


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Entry:
    at: datetime
    action: str
    user: str
    reason: str
    changes: list[Change] = field(default_factory=list)


def audited_model(label: str) -> type[models.Model]:
    """The model named `app_label.model_name` if it is under the audit trail, else 404."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise Http404("No such record type.") from exc
    if not getattr(model, "pgh_event_models", None):
        raise Http404("No such record type.")
    return model


def hidden_fields_for(model: type[models.Model], *, blinded: bool) -> frozenset[str]:
    """Fields to leave out of a trail: allocation fields for blinded readers (`blinded_fields`)."""
    hidden = set(ALWAYS_HIDDEN)
    if blinded:
        hidden |= set(getattr(model, "blinded_fields", ()))
    return frozenset(hidden)


def history_for(obj: models.Model, *, hidden: frozenset[str] = ALWAYS_HIDDEN) -> list[Entry]:
    """The record's events, oldest first. Two queries whatever the length of the trail."""
    events = list(Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_id"))
    user_ids = {
        (e.pgh_context or {}).get("user")
        for e in events
        if (e.pgh_context or {}).get("user") is not None
    }
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    entries = []
    for event in events:
        context = event.pgh_context or {}
        if event.pgh_diff:
            changes = [
                Change(name, old, new)
                for name, (old, new) in event.pgh_diff.items()
                if name not in hidden
            ]
        else:
            # The first event has no previous one to compare with: show the values set.
            changes = [
                Change(name, None, value)
                for name, value in (event.pgh_data or {}).items()
                if name not in hidden and not name.startswith("pgh_")
            ]
        entries.append(
            Entry(
                at=event.pgh_created_at,
                action=event.pgh_label,
                user=names.get(context.get("user"), "system"),
                reason=context.get("reason", ""),
                changes=changes,
            )
        )
    return entries


def visible_record_or_404(user, label: str, pk: str, *, is_blinded):
    """The record and the fields this user may not see in its trail, or 404.

    The record must be visible through its model's `visible_to(user)` (the access layer);
    allocation fields are hidden from users blinded in the record's study, and a model whose
    every row tells the allocation (`allocation_trail = True`: arms, randomisation lists and
    slots, unblindings) has no trail at all for them: hiding fields would not be enough.

    Who is blinded where is the access layer's answer, and that layer (trials) sits above
    audit: the caller passes it in as `is_blinded(user, study)` (the URLconf hands the views
    `trials.access.is_blinded`), so audit keeps importing nothing above itself.
    """
    model = audited_model(label)
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        raise Http404("No such record.")
    try:
        obj = manager.visible_to(user).filter(pk=pk).first()
    except (ValueError, TypeError) as exc:
        raise Http404("No such record.") from exc
    if obj is None:
        raise Http404("No such record.")
    blinded = is_blinded(user, obj.get_study())
    if blinded and getattr(model, "allocation_trail", False):
        raise Http404("No such record.")
    return obj, hidden_fields_for(model, blinded=blinded)
