"""What the capture writes share: the permission check, the `Captured` they return, entered
values turned into `{field: [messages]}` errors, the refusal of a stale edit (listing yours vs
saved values) and the audited save."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from audit.editing import Conflict, StaleRecord, update_record
from audit.tracking import acting
from patients.models import Participant, ScheduledVisit
from trials import access

ALL = "__all__"


@dataclass(frozen=True)
class Captured:
    record: models.Model
    created: bool
    visit: ScheduledVisit


def can_capture(user, participant: Participant) -> bool:
    """Coordinators and investigators covering the participant's site enter data."""
    return access.can_edit_clinical_data(user, participant.study, participant.site)


def require_capture(user, participant: Participant) -> None:
    if not can_capture(user, participant):
        raise PermissionDenied(_("Your role does not allow entering data for this participant."))


# -- values entered on the forms ----------------------------------------------------------


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def add_error(errors: dict, key: str, *messages) -> None:
    errors.setdefault(key, []).extend(str(m) for m in messages)


def merge_errors(errors: dict, more: dict) -> None:
    for key, messages in more.items():
        add_error(errors, key, *messages)


def as_date(value, errors: dict, key: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if is_blank(value):
        return None
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        add_error(errors, key, _("Enter a valid date (YYYY-MM-DD)."))
    return parsed


def model_value(model, name: str, value, errors: dict):
    """`value` checked against the model field (digits, decimal places, length, choices)."""
    if is_blank(value):
        return None
    if isinstance(value, float):  # 12.3 must not become 12.300000000000000710...
        value = repr(value)
    try:
        return model._meta.get_field(name).clean(value, None)
    except ValidationError as exc:
        add_error(errors, name, *exc.messages)
        return None


def _display(value) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return "" if value is None else str(value)


def refuse_if_stale(current, expected_version, *, yours: dict, saved: dict, labels: dict):
    """Raise StaleRecord, listing each entered value that differs from the saved one, when
    the user's form was loaded before the last save (or before the record existed)."""
    if expected_version is not None and expected_version == current.row_version:
        return
    conflicts = [
        Conflict(
            name, str(labels.get(name, name)), _display(yours.get(name)), _display(saved.get(name))
        )
        for name in dict.fromkeys([*yours, *saved])
        if yours.get(name) != saved.get(name)
    ]
    raise StaleRecord(current=current, conflicts=conflicts)


# -- saving -------------------------------------------------------------------------------


def save_record(model, existing, fields: dict, *, user, reason: str, **create_fields):
    if existing is None:
        with acting(user, reason):
            return model.objects.create(entered_by=user, **create_fields, **fields)
    return update_record(
        existing,
        expected_version=existing.row_version,
        changes=fields,
        user=user,
        reason=reason,
    )
