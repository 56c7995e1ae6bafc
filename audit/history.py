"""Reading the audit trail of one record: who, when, what changed (old → new), and why.

The events are written by database triggers (see `audit.tracking`); this module only reads
them, through pghistory's aggregate `Events` model, which also computes each event's diff.

The diff speaks the database's language (`site_id: 2`, `grade: 3`, ISO timestamps in UTC,
a JSON blob of answers); a monitor reading the trail needs the form's language, as REDCap's
and OpenClinica's audit views give it: the field's label, choice labels, Yes / No, the
related record's name, times in the site's zone, one line per questionnaire item. So every
change keeps its raw values (the API's clients rely on them) and gains a label and both
values as the user saw them. Labelling reads only what the events reference, in one query
per referenced model, so the trail costs the same queries for 3 events as for 300.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.http import Http404
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from pghistory.models import Events

from core.times import site_time

#: pghistory's event labels (audit.tracking's trackers) as the trail's page names them.
ACTIONS = {
    "insert": pgettext_lazy("audit trail action", "created"),
    "update": pgettext_lazy("audit trail action", "changed"),
    "delete": pgettext_lazy("audit trail action", "deleted"),
}


def field_label(f: models.Field):
    """A field's name for people. A relation Django named after the field ("protocol
    version", never translated) is called by the related model's (translated) name."""
    if f.is_relation and f.verbose_name == f.name.replace("_", " "):
        return f.related_model._meta.verbose_name
    return f.verbose_name


#: Fields never shown in an audit trail whatever the user (secrets, not clinical data).
ALWAYS_HIDDEN = frozenset({"password"})

#: Columns that are bookkeeping, never a change anyone made: the optimistic-lock counter
#: moves on every save and would only bury the real change under noise.
BOOKKEEPING = frozenset({"row_version"})


@dataclass(frozen=True)
class Change:
    """One changed value. `field` is the column (its attname) and `old` / `new` are raw as
    stored; `label`, `old_display` and `new_display` are what the page shows. For a JSON
    field of items (questionnaire answers) there is one change per item, named by `item`.
    `derived` marks a value the server computes from others (a deadline, a score): shown,
    because a correction moving a regulator deadline is something an inspector checks,
    but flagged, so nobody reads it as typed in."""

    field: str
    old: Any
    new: Any
    label: str = ""
    old_display: str = ""
    new_display: str = ""
    item: str = ""
    derived: bool = False


@dataclass(frozen=True)
class Entry:
    at: datetime
    action: str
    user: str
    reason: str
    changes: list[Change] = field(default_factory=list)
    #: The action in the reader's language (`action` stays pghistory's label, for the API).
    action_display: str = ""
    #: The event time in the record's site time zone, abbreviation and UTC offset (core.times).
    at_display: str = ""
    #: Full name and username, as a signature manifest names the signer.
    user_display: str = ""


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
    """Fields to leave out of a trail: allocation fields for blinded readers.

    Besides the model's own `blinded_fields`, any foreign key to a model whose every row
    tells the allocation (`allocation_trail`, e.g. an arm) is hidden from a blinded reader:
    rendering it by name would unblind as surely as the arm column itself.
    """
    hidden = set(ALWAYS_HIDDEN)
    if blinded:
        hidden |= set(getattr(model, "blinded_fields", ()))
        for f in model._meta.concrete_fields:
            if f.is_relation and getattr(f.related_model, "allocation_trail", False):
                hidden |= {f.name, f.attname}
    return frozenset(hidden)


def record_zone(obj: models.Model) -> ZoneInfo | None:
    """The time zone of the site the record belongs to, or None (a study-wide record).

    Clinical times are read at the site: a dose given at 09:00 in Shanghai must not show
    as 01:00. The site is the record itself, its `site`, or its participant's site.
    """
    participant = getattr(obj, "participant", None)
    for candidate in (obj, getattr(obj, "site", None), getattr(participant, "site", None)):
        zone = getattr(candidate, "zone", None)
        if isinstance(zone, ZoneInfo):
            return zone
    return None


class _Labeller:
    """Turns one model's raw event values into labels and displays, for one reader."""

    def __init__(self, obj: models.Model, zone: ZoneInfo | None):
        self.obj = obj
        self.model = type(obj)
        self.zone = zone
        meta = self.model._meta
        self.fields = {}
        for f in meta.concrete_fields:
            self.fields[f.attname] = f
            self.fields.setdefault(f.name, f)
        #: Changes are listed in the form's order, not the database's key order.
        self.order = {name: n for n, name in enumerate(self.fields)}
        self.derived = frozenset(getattr(self.model, "derived_fields", ()))
        self.items: dict[str, Mapping[str, tuple[str, Mapping]] | None] = {}
        self.related: dict[str, dict] = {}

    def is_bookkeeping(self, name: str) -> bool:
        if name.startswith("pgh_") or name in BOOKKEEPING:
            return True
        f = self.fields.get(name)
        if f is None:
            return False
        # The primary key and the automatic timestamps say nothing a user did.
        return f.primary_key or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)

    def item_labels(self, name: str):
        """The record's items in a JSON field (code → (label, choices)), from the model's
        `audit_items(field)` hook; None for a JSON field that is not a set of items."""
        if name not in self.items:
            hook = getattr(self.obj, "audit_items", None)
            self.items[name] = hook(name) if hook else None
        return self.items[name]

    def load_related(self, raw: Iterable[tuple[str, Any]]) -> None:
        """Fetch every related object the changes reference: one query per related model."""
        wanted = defaultdict(set)
        for name, value in raw:
            f = self.fields.get(name)
            if f is not None and f.is_relation and value is not None:
                wanted[name].add(value)
        for name, ids in wanted.items():
            related = self.fields[name].related_model
            self.related[name] = related._base_manager.select_related().in_bulk(ids)

    def changes(self, name: str, old: Any, new: Any) -> list[Change]:
        f = self.fields.get(name)
        label = str(capfirst(field_label(f))) if f is not None else name
        derived = name in self.derived or (f is not None and f.name in self.derived)
        items = self.item_labels(name) if isinstance(f, models.JSONField) else None
        if items is not None and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            return self.item_changes(name, old or {}, new or {}, items, derived)
        return [
            Change(
                name,
                old,
                new,
                label=label,
                old_display=self.display(f, old),
                new_display=self.display(f, new),
                derived=derived,
            )
        ]

    def item_changes(self, name, old: dict, new: dict, items, derived: bool) -> list[Change]:
        order = list(items) + sorted((set(old) | set(new)) - set(items))
        result = []
        for code in order:
            before, after = old.get(code), new.get(code)
            if before == after:
                continue
            item_label, choices = items.get(code, ("", {}))
            result.append(
                Change(
                    name,
                    before,
                    after,
                    label=f"{code} – {item_label}" if item_label else code,
                    old_display=self.plain(before, choices),
                    new_display=self.plain(after, choices),
                    item=code,
                    derived=derived,
                )
            )
        return result

    def display(self, f: models.Field | None, value: Any) -> str:
        if value is None or f is None:
            return self.plain(value)
        if f.is_relation:
            target = self.related.get(f.name, {}).get(value) or self.related.get(f.attname, {}).get(
                value
            )
            return str(target) if target is not None else str(value)
        if f.choices:
            return self.plain(value, dict(f.flatchoices))
        if isinstance(f, models.DateTimeField):
            moment = value if isinstance(value, datetime) else parse_datetime(str(value))
            return site_time(moment, self.zone, seconds=True) if moment else str(value)
        if isinstance(f, models.DateField):
            day = value if isinstance(value, date) else parse_date(str(value))
            return day.isoformat() if day else str(value)
        return self.plain(value)

    @staticmethod
    def plain(value: Any, choices: Mapping | None = None) -> str:
        if value is None:
            return ""
        if choices and value in choices:
            return str(choices[value])
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        # Structured values (derived details, confirmed checks) read as "key: value" lists,
        # not as JSON a monitor would have to parse by eye.
        if isinstance(value, list):
            parts = [_Labeller.plain(v) for v in value]
            nested = any(isinstance(v, dict) for v in value)
            return " | ".join(parts) if nested else ", ".join(parts)
        if isinstance(value, dict):
            return "; ".join(f"{key}: {_Labeller.plain(v)}" for key, v in value.items())
        return str(value)


def _raw_changes(event, labeller: _Labeller, hidden: frozenset[str]):
    """(column, old, new) for one event, without hidden and bookkeeping columns."""
    if event.pgh_diff:
        pairs = [(name, old, new) for name, (old, new) in event.pgh_diff.items()]
    else:
        # The first event has no previous one to compare with: show the values set (an
        # empty one was not entered, so it is no change either).
        pairs = [
            (name, None, value)
            for name, value in (event.pgh_data or {}).items()
            if value not in (None, "", [], {})
        ]
    pairs.sort(key=lambda pair: labeller.order.get(pair[0], len(labeller.order)))
    return [
        (name, old, new)
        for name, old, new in pairs
        if name not in hidden and not labeller.is_bookkeeping(name)
    ]


def history_for(obj: models.Model, *, hidden: frozenset[str] = ALWAYS_HIDDEN) -> list[Entry]:
    """The record's events, oldest first, labelled for reading.

    Queries do not grow with the trail: the events, their users, one query per related
    model the changes reference, and what the record needs to name its items and its site.
    """
    events = list(Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_id"))
    user_ids = {
        (e.pgh_context or {}).get("user")
        for e in events
        if (e.pgh_context or {}).get("user") is not None
    }
    users = {
        pk: (username, f"{first} {last}".strip())
        for pk, username, first, last in get_user_model()
        .objects.filter(pk__in=user_ids)
        .values_list("pk", "username", "first_name", "last_name")
    }
    zone = record_zone(obj)
    labeller = _Labeller(obj, zone)
    raw = [_raw_changes(event, labeller, hidden) for event in events]
    labeller.load_related(
        (name, value) for changes in raw for name, old, new in changes for value in (old, new)
    )
    entries = []
    for event, event_changes in zip(events, raw, strict=True):
        context = event.pgh_context or {}
        username, full_name = users.get(context.get("user"), ("system", ""))
        entries.append(
            Entry(
                at=event.pgh_created_at,
                action=event.pgh_label,
                action_display=str(ACTIONS.get(event.pgh_label, event.pgh_label)),
                user=username,
                reason=context.get("reason", ""),
                changes=[
                    change
                    for name, old, new in event_changes
                    for change in labeller.changes(name, old, new)
                ],
                at_display=site_time(event.pgh_created_at, zone, seconds=True),
                user_display=f"{full_name} ({username})" if full_name else username,
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
