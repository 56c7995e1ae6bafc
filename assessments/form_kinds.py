"""Which kind of form a form code is, and everything that differs between kinds, in one place.

A visit's form is one of four kinds: a scored instrument (RPDAI, HAMD17, PHQ9, SLEDAI2K), the
Treg panel, the steroid dose, or a form its protocol defines as data (`FormDefinition`). Each
kind says where its records are stored, how a record names its form code, how entered
values are checked and saved, what a conflict compares, which page form enters it and what
the API answers. `capture_form`, the pages, the API and the reads (`selectors`) ask this
module; nothing else tells kinds apart by their codes.

Eligibility and adverse events are entered on pages of their own (patients, safety): they
are in a visit's schedule but are no kind here (`kind_for` gives None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trials.forms.codes import FORM_CODES, INSTRUMENT_CODES, STEROID_DOSE, TREG_PANEL
from trials.forms.spec import Text
from trials.models import FormDefinition, VisitDefinition

from . import checks, form_records, form_rules, forms, instruments
from .models import FormRecord, InstrumentResponse, ItemLabels, SteroidDose, TregPanel


@dataclass
class Entry:
    """One save of one form, as the kinds see it."""

    code: str
    answers: dict
    visit_date: date | None
    visit: object
    existing: models.Model | None
    confirm: Iterable[str]
    today: date | None = None


@dataclass
class Checked:
    """The values to save, or why not (errors, warnings still to confirm)."""

    values: dict
    errors: dict = field(default_factory=dict)
    warnings: dict = field(default_factory=dict)
    confirmed: list = field(default_factory=list)
    #: [(key, why)] of saved values a change hides (protocol-defined forms).
    cleared: list = field(default_factory=list)


class Catalogue:
    """The forms some protocol versions define as data, read in one query, so a page listing
    many visits and forms names each form without a query per form.

    The query runs when a protocol-defined form is first named: a page naming only built-in
    forms (the RPDAI form) does not make it."""

    def __init__(self, version_ids: Iterable[int]):
        self._version_ids = set(version_ids)

    @cached_property
    def _by_version(self) -> dict[tuple[int, str], FormDefinition]:
        return {
            (d.version_id, d.code): d
            for d in FormDefinition.objects.filter(version_id__in=self._version_ids)
        }

    def definition(self, version_id: int, code: str) -> FormDefinition | None:
        return self._by_version.get((version_id, code))

    def label(self, code: str) -> str:
        # Any version's name will do for a label; the newest one is the likeliest read.
        names = [d.name for (_v, c), d in sorted(self._by_version.items()) if c == code]
        return Text.of(names[-1]).get() if names else code


class FormKind:
    #: The key the templates use for a kind's own page parts ("instrument", "treg", ...).
    name: str
    model: type[models.Model]
    #: The record's field holding its form code; None when the model holds one form.
    code_field: str | None = None
    #: Record fields checked against the participant's dates (a sample date, a dose date).
    date_fields: tuple[str, ...] = ()

    def __init__(self, code: str | None = None):
        self.code = code

    def all_records(self, code: str) -> models.QuerySet:
        """Every record of form `code`, at any visit."""
        qs = self.model.objects.all()
        return qs.filter(**{self.code_field: code}) if self.code_field else qs

    def records(self, visit, code: str) -> models.QuerySet:
        return self.all_records(code).filter(scheduled_visit=visit)

    def code_of(self, record) -> str:
        return getattr(record, self.code_field) if self.code_field else self.code

    def label(self, code: str, catalogue: Catalogue | None = None) -> str:
        raise NotImplementedError

    def check(self, entry: Entry) -> Checked:
        raise NotImplementedError

    def comparable(self, existing, values: dict) -> tuple[dict, dict, dict]:
        """(yours, saved, labels) over what the user enters, for conflicts and no-op edits."""
        model = type(existing)
        labels = {name: model._meta.get_field(name).verbose_name for name in values}
        return dict(values), {name: getattr(existing, name) for name in values}, labels

    def save(self, entry: Entry, checked: Checked, *, participant, user, reason: str):
        raise NotImplementedError

    def payload(self, record) -> dict:
        raise NotImplementedError

    def page_form(self, code: str, *, visit, record, participant, data=None):
        """The page's Django form (assessments.forms) for this form at this visit."""
        raise NotImplementedError


def _text(value):
    return None if value is None else str(value)


class InstrumentKind(FormKind):
    name = "instrument"
    model = InstrumentResponse
    code_field = "instrument"

    def label(self, code, catalogue=None):
        return str(instruments.get(code).name)

    def check(self, entry):
        values, errors = form_records.clean_instrument(entry.code, entry.answers)
        return Checked(values, errors)

    def comparable(self, existing, values):
        labels = {item.code: item.label for item in instruments.get(existing.instrument).items}
        return dict(values), dict(existing.answers), labels

    def save(self, entry, checked, *, participant, user, reason):
        return form_records.save_instrument(
            participant, entry.visit, entry.code, checked.values, entry.existing, user, reason
        )

    def page_form(self, code, *, visit, record, participant, data=None):
        return forms.InstrumentForm(
            instrument=instruments.get(code), data=data, visit=visit, record=record
        )

    def payload(self, record):
        return {
            "answers": record.answers,
            "total": record.total,
            "band": record.band or None,
            "alerts": list(record.alerts),
            "details": record.details,
        }


class _LimitedKind(FormKind):
    """A built-in form with soft and hard limits (assessments.checks)."""

    limits: tuple = ()

    def check(self, entry):
        values, errors = self.clean(entry)
        outcome = checks.evaluate(
            self.limits,
            values,
            confirm=entry.confirm,
            previously_confirmed=entry.existing.confirmed_checks if entry.existing else (),
            skip=errors,
        )
        for key, messages in outcome.errors.items():
            errors.setdefault(key, []).extend(messages)
        return Checked(values, errors, outcome.warnings, outcome.confirmed)

    def clean(self, entry) -> tuple[dict, dict]:
        raise NotImplementedError


class TregKind(_LimitedKind):
    name = "treg"
    model = TregPanel
    date_fields = ("sample_date",)
    limits = checks.TREG_CHECKS

    def label(self, code, catalogue=None):
        return str(gettext_lazy("Treg panel"))

    def clean(self, entry):
        return form_records.clean_treg(entry.answers, entry.visit_date)

    def save(self, entry, checked, *, participant, user, reason):
        values = {**checked.values, "confirmed_checks": checked.confirmed}
        return form_records.save_treg(
            participant, entry.visit, values, entry.existing, user, reason
        )

    def page_form(self, code, *, visit, record, participant, data=None):
        return forms.TregPanelForm(data=data, visit=visit, record=record)

    def payload(self, record):
        return {
            "sample_date": record.sample_date,
            "derived": {
                name: _text(getattr(record, name))
                for name in (
                    "derived_cd4_per_ul",
                    "treg_per_ul",
                    "tcon_per_ul",
                    "treg_tcon_ratio",
                    "treg_pct_change",
                    "treg_pct_change_pct",
                    "treg_per_ul_change",
                    "treg_per_ul_change_pct",
                )
            },
        }


class SteroidKind(_LimitedKind):
    name = "steroid"
    model = SteroidDose
    date_fields = ("date",)
    limits = checks.STEROID_CHECKS

    def label(self, code, catalogue=None):
        return str(gettext_lazy("Steroid dose"))

    def clean(self, entry):
        return form_records.clean_steroid(entry.answers, entry.visit_date)

    def save(self, entry, checked, *, participant, user, reason):
        values = {**checked.values, "confirmed_checks": checked.confirmed}
        return form_records.save_steroid(
            participant, entry.visit, values, entry.existing, user, reason
        )

    def page_form(self, code, *, visit, record, participant, data=None):
        last = (
            SteroidDose.objects.filter(participant=participant, weight_kg__isnull=False)
            .order_by("-date")
            .values_list("weight_kg", flat=True)
            .first()
        )
        return forms.SteroidDoseForm(last_weight=last, data=data, visit=visit, record=record)

    def payload(self, record):
        return {
            "date": record.date,
            "derived": {
                "prednisone_eq_mg": _text(record.prednisone_eq_mg),
                "other_glucocorticoids_eq_mg": _text(record.other_glucocorticoids_eq_mg),
                "total_prednisone_eq_mg": _text(record.total_prednisone_eq_mg),
                "mg_per_kg_per_day": _text(record.mg_per_kg_per_day),
                "baseline_prednisone_eq_mg": _text(record.baseline_prednisone_eq_mg),
                "pct_change_from_baseline": _text(record.pct_change_from_baseline),
                "steroid_sparing": record.steroid_sparing,
            },
        }


class ProtocolKind(FormKind):
    """Any form the participant's protocol version defines as data."""

    name = "protocol"
    model = FormRecord
    code_field = "form_code"

    def label(self, code, catalogue=None):
        return catalogue.label(code) if catalogue is not None else code

    @staticmethod
    def definition(entry: Entry) -> FormDefinition | None:
        """The version the record was entered under; for a new one, the visit's protocol's."""
        if entry.existing is not None:
            return entry.existing.definition
        return FormDefinition.objects.filter(
            version_id=entry.visit.protocol_version_id, code=entry.code
        ).first()

    def check(self, entry):
        definition = self.definition(entry)
        if definition is None:
            return Checked({}, {"form": [_("This visit's protocol does not define this form.")]})
        existing = entry.existing
        result = form_rules.run(
            definition.form,
            entry.answers,
            confirm=entry.confirm,
            previous=(
                {"values": existing.values, "missing": existing.missing} if existing else None
            ),
            previously_confirmed=existing.confirmed_checks if existing else (),
            today=entry.today,
        )
        values = {
            "definition": definition,
            "values": result.values,
            "missing": result.missing,
            "calculated": result.calculated,
        }
        return Checked(values, result.errors, result.warnings, result.confirmed, result.cleared)

    @staticmethod
    def _flat(values: dict, missing: dict) -> dict:
        flat = dict(values)
        for key, answer in missing.items():
            flat[key] = f"{answer['code']} ({answer['reason']})"
        return flat

    def comparable(self, existing, values):
        items = ItemLabels(existing.definition.form)
        keys = {*values["values"], *values["missing"], *existing.values, *existing.missing}
        labels = {key: items.get(key, (key, {}))[0] for key in keys}
        yours = self._flat(values["values"], values["missing"])
        saved = self._flat(existing.values, existing.missing)
        return yours, saved, labels

    def save(self, entry, checked, *, participant, user, reason):
        if checked.cleared:
            cleared = "; ".join(f"{key} ({why})" for key, why in checked.cleared)
            # Audit reasons are stored data, written in English whatever the page's language.
            reason = f"{reason}; cleared by branching: {cleared}"
        return form_records.save_protocol_form(
            participant,
            entry.visit,
            entry.code,
            {**checked.values, "confirmed_checks": checked.confirmed},
            entry.existing,
            user,
            reason,
        )

    def page_form(self, code, *, visit, record, participant, data=None):
        if record is not None:
            definition = record.definition
        else:
            definition = FormDefinition.objects.get(version_id=visit.protocol_version_id, code=code)
        return forms.ProtocolForm(definition=definition, data=data, visit=visit, record=record)

    def payload(self, record):
        return {
            "form_version": record.definition.content_hash,
            "values": record.values,
            "missing": record.missing,
            "calculated": record.calculated,
            "confirmed_checks": record.confirmed_checks,
        }


_BUILTIN: dict[str, FormKind] = {
    **{code: InstrumentKind(code) for code in INSTRUMENT_CODES},
    TREG_PANEL: TregKind(TREG_PANEL),
    STEROID_DOSE: SteroidKind(STEROID_DOSE),
}
PROTOCOL = ProtocolKind()
#: Every kind once: one query per kind reads a set of visits' records.
KINDS: tuple[FormKind, ...] = (
    InstrumentKind(),
    _BUILTIN[TREG_PANEL],
    _BUILTIN[STEROID_DOSE],
    PROTOCOL,
)


def kind_for(code: str) -> FormKind | None:
    """The kind of a form code a visit's schedule names: a built-in kind, or a form the
    protocol defines (any code not built in: the protocol file was refused otherwise)."""
    if code in _BUILTIN:
        return _BUILTIN[code]
    if code in FORM_CODES:  # eligibility and adverse events have their own pages
        return None
    return PROTOCOL


def kind_at(visit, code: str) -> FormKind | None:
    """The kind of `code` at this visit; None when the visit's protocol has no such form."""
    kind = kind_for(code)
    if kind is PROTOCOL and not (
        FormDefinition.objects.filter(version_id=visit.protocol_version_id, code=code).exists()
        or FormRecord.objects.filter(scheduled_visit=visit, form_code=code).exists()
    ):
        return None
    return kind


def scheduled_forms(study_ids: Iterable[int]) -> set[str]:
    """The form codes the visits of these studies schedule, in one query."""
    schedules = VisitDefinition.objects.filter(version__study__in=list(study_ids))
    return {code for forms in schedules.values_list("forms", flat=True) for code in forms}


def all_records(code: str) -> models.QuerySet | None:
    """Every record answering form `code` (to be narrowed to one visit); None for a form
    entered on a page of its own (eligibility, adverse events)."""
    kind = kind_for(code)
    return None if kind is None else kind.all_records(code)


def is_captured(code: str) -> bool:
    """Whether a scheduled form code is entered through the visit pages and API."""
    return kind_for(code) is not None
