"""Changing a saved clinical record: a reason is required and a stale save conflicts loudly.

Every editable clinical model has a `row_version` column. A form carries the version it
was loaded at; saving applies the user's values only if nobody saved the record since,
otherwise `StaleRecord` lists, field by field, the user's value and the value now stored,
so the page can show both and keep what the user typed (nothing is silently overwritten).
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ConflictError

from .tracking import acting


@dataclass(frozen=True)
class Conflict:
    field: str
    label: str
    yours: Any
    saved: Any


class StaleRecord(ConflictError):
    """Someone else saved the record after this user loaded it.

    `message` replaces the general explanation where the action needs its own (signing a
    changed record asks to review it again).
    """

    def __init__(self, *, current, conflicts: list[Conflict], message: str | None = None):
        self.current = current
        self.conflicts = conflicts
        self._message = message
        super().__init__(self.message())

    def message(self) -> str:
        if self._message:
            return self._message
        if not self.conflicts:
            return _(
                "Someone else saved this record after you opened it. Review it and save again."
            )
        parts = "; ".join(
            _("%(label)s: yours “%(yours)s”, saved “%(saved)s”")
            % {"label": c.label, "yours": _show(c.yours), "saved": _show(c.saved)}
            for c in self.conflicts
        )
        return _(
            "Someone else saved this record after you opened it, so your changes were not "
            "saved. Differences: %(parts)s. Check the values and save again."
        ) % {"parts": parts}


def _show(value) -> str:
    return "" if value is None else str(value)


def update_record(obj, *, expected_version: int, changes: dict[str, Any], user, reason: str):
    """Apply `changes` to a saved record, audited with `reason`; refuse a stale version."""
    if not (reason or "").strip():
        raise ValidationError({"reason_for_change": _("Give a reason for changing saved data.")})
    model = type(obj)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=obj.pk)
        if current.row_version != expected_version:
            conflicts = [
                Conflict(name, str(model._meta.get_field(name).verbose_name), value, saved)
                for name, value in changes.items()
                if (saved := getattr(current, name)) != value
            ]
            raise StaleRecord(current=current, conflicts=conflicts)
        return update_locked_record(current, changes=changes, user=user, reason=reason)


def update_locked_record(current, *, changes: dict[str, Any], user, reason: str):
    """`update_record` for a row the caller read with `select_for_update` in the transaction
    it still holds: nobody can have saved the row since, so it is not read again (nor given
    a savepoint of its own); the change is audited with `reason` all the same."""
    if not (reason or "").strip():
        raise ValidationError({"reason_for_change": _("Give a reason for changing saved data.")})
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "update_locked_record needs the transaction that locked the row."
        )
    for name, value in changes.items():
        setattr(current, name, value)
    current.row_version += 1
    with acting(user, reason.strip()):
        current.save()
    return current


class ChangeControlledForm(forms.ModelForm):
    """A model form for clinical data: first entry as usual, later edits need a reason.

    Use `save_controlled(user=...)`; on a stale save it adds the conflict message to the form
    (non-field error) and returns None, leaving the user's input in the bound form.
    """

    row_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason_for_change = forms.CharField(
        label=gettext_lazy("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when you change data already saved (audit trail)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["row_version"].initial = self.instance.row_version
            self.fields["reason_for_change"].required = True
        else:
            del self.fields["reason_for_change"]

    def save_controlled(self, *, user, reason_if_new: str = "Initial entry"):
        if not self.instance.pk:
            with acting(user, reason_if_new):
                return self.save()
        changes = {
            name: self.cleaned_data[name]
            for name in self._meta.fields or []
            if name in self.cleaned_data
        }
        expected = self.cleaned_data.get("row_version")
        try:
            return update_record(
                self.instance,
                expected_version=expected if expected is not None else self.instance.row_version,
                changes=changes,
                user=user,
                reason=self.cleaned_data.get("reason_for_change", ""),
            )
        except StaleRecord as exc:
            self.add_error(None, exc.message())
            self.stale = exc
            return None
