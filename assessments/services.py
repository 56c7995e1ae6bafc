"""Visit data capture: writes (forms, doses, visit status) and the reads its pages share.

Every write is keyword-only, runs in one transaction and first takes the participant's row
lock: a form's save can change rows besides its own (the visit's date and status, the
change-from-baseline values of the participant's other records, the next unscheduled visit
number), so two users saving for one participant are serialised rather than interleaved.
Edits of saved records go through `audit.editing.update_record`: a reason is required and a
stale version is refused with `StaleRecord`, whose message lists yours vs saved values.

Validation problems are raised as `ValidationError({field: [messages]})`, keyed by the form
field (or instrument item code) they belong to, "__all__" for the rest; pages show them
next to their fields and the API answers them as 400 `{"errors": ...}`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.editing import Conflict, StaleRecord, update_record
from audit.tracking import acting
from patients.models import (
    DoseStatus,
    Participant,
    ParticipantStatus,
    PlannedDose,
    ScheduledVisit,
    VisitStatus,
)
from trials import access
from trials.models import Site, Study, VisitDefinition

from . import instruments
from .derivations import (
    TregDerived,
    derive_treg,
    is_steroid_sparing_response,
    mg_per_kg,
    percent_change,
    prednisone_equivalent,
    validate_steroid,
    validate_treg,
)
from .form_codes import (
    ADVERSE_EVENTS,
    ELIGIBILITY,
    INSTRUMENT_CODES,
    STEROID_DOSE,
    TREG_PANEL,
)
from .models import (
    DoseAdministration,
    InstrumentAlert,
    InstrumentResponse,
    SteroidDose,
    TregPanel,
)

ALL = "__all__"
#: The forms recorded through this app's visit pages and API (ELIG and AE have their own).
CAPTURE_FORMS = INSTRUMENT_CODES | {TREG_PANEL, STEROID_DOSE}
#: Which instrument the participant page plots when a protocol has several.
EFFICACY_PREFERENCE = ("RPDAI", "SLEDAI2K", "HAMD17", "PHQ9")
OUT_OF_WINDOW = Q(actual_date__lt=F("window_start")) | Q(actual_date__gt=F("window_end"))

FORM_LABELS = {
    ELIGIBILITY: gettext_lazy("Eligibility"),
    ADVERSE_EVENTS: gettext_lazy("Adverse events"),
    TREG_PANEL: gettext_lazy("Treg panel"),
    STEROID_DOSE: gettext_lazy("Steroid dose"),
}


def form_label(code: str) -> str:
    if code in INSTRUMENT_CODES:
        return str(instruments.get(code).name)
    return str(FORM_LABELS.get(code, code))


# -- access, time and the protocol ------------------------------------------------------


def can_capture(user, participant: Participant) -> bool:
    """Coordinators and investigators covering the participant's site enter data."""
    return access.can_edit_clinical_data(user, participant.study, participant.site)


def _require_capture(user, participant: Participant) -> None:
    if not can_capture(user, participant):
        raise PermissionDenied(_("Your role does not allow entering data for this participant."))


def site_today(site: Site, now: datetime | None = None) -> date:
    """Today's date where the site is (a visit "today" in Shanghai may be yesterday in UTC)."""
    try:
        zone = ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return (now or timezone.now()).astimezone(zone).date()


def study_day_of(baseline: date, day: date) -> int:
    """CDISC study day: baseline is day 1 and there is no day 0."""
    offset = (day - baseline).days
    return offset + 1 if offset >= 0 else offset


def study_week(baseline: date | None, day: date | None) -> float | None:
    """Weeks since baseline (baseline = week 0), to 0.1, for plots."""
    if baseline is None or day is None:
        return None
    return round((day - baseline).days / 7, 1)


def protocol_capture_forms(version_id: int) -> list[str]:
    """The capture forms any visit of the protocol version names, in schedule order."""
    seen: list[str] = []
    for forms in VisitDefinition.objects.filter(version_id=version_id).values_list(
        "forms", flat=True
    ):
        seen.extend(code for code in forms if code in CAPTURE_FORMS and code not in seen)
    return seen


def forms_for_visit(visit: ScheduledVisit, protocol_forms: list[str] | None = None) -> list[str]:
    """The forms a visit requires (from the protocol). An unscheduled visit requires none but
    may record any capture form of the participant's protocol (`protocol_forms`)."""
    if visit.definition_id is not None:
        return list(visit.definition.forms)
    if protocol_forms is None:
        protocol_forms = protocol_capture_forms(visit.protocol_version_id)
    return list(protocol_forms)


def efficacy_instrument(visits) -> str | None:
    """The instrument the protocol schedules most often (the study's efficacy outcome)."""
    counts = Counter(
        code
        for visit in visits
        if visit.definition_id is not None
        for code in visit.definition.forms
        if code in INSTRUMENT_CODES
    )
    if not counts:
        return None
    best = max(counts.values())
    ranked = sorted(
        (code for code, n in counts.items() if n == best),
        key=lambda c: EFFICACY_PREFERENCE.index(c) if c in EFFICACY_PREFERENCE else 99,
    )
    return ranked[0]


def baseline_visit(participant: Participant) -> ScheduledVisit | None:
    """The scheduled visit changes are measured from: the last one on or before day 1."""
    visits = participant.visits.live().filter(is_unscheduled=False)
    return (
        visits.filter(study_day__lte=1).order_by("-study_day", "target_date").first()
        or visits.order_by("study_day", "target_date").first()
    )


def model_for(form_code: str) -> type[models.Model]:
    if form_code == TREG_PANEL:
        return TregPanel
    if form_code == STEROID_DOSE:
        return SteroidDose
    return InstrumentResponse


def records_at(visit: ScheduledVisit, form_code: str) -> models.QuerySet:
    """The (at most one) record of `form_code` at `visit`, as a queryset."""
    model = model_for(form_code)
    qs = model.objects.filter(scheduled_visit=visit)
    return qs.filter(instrument=form_code) if model is InstrumentResponse else qs


def record_at(visit: ScheduledVisit, form_code: str):
    return records_at(visit, form_code).first()


def open_query_counts(records) -> dict[tuple[str, int], int]:
    """Open data queries per record, keyed by (model label, pk).

    Hook for the data-queries feature: until it lands nothing has a query, so every count
    is 0. Callers pass every record of a page at once so this stays one query."""
    return {}


# -- values entered on the forms ----------------------------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _add(errors: dict, key: str, *messages) -> None:
    errors.setdefault(key, []).extend(str(m) for m in messages)


def _merge(errors: dict, more: dict) -> None:
    for key, messages in more.items():
        _add(errors, key, *messages)


def _as_date(value, errors: dict, key: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _blank(value):
        return None
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        _add(errors, key, _("Enter a valid date (YYYY-MM-DD)."))
    return parsed


def _model_value(model, name: str, value, errors: dict):
    """`value` checked against the model field (digits, decimal places, length, choices)."""
    if _blank(value):
        return None
    if isinstance(value, float):  # 12.3 must not become 12.300000000000000710...
        value = repr(value)
    try:
        return model._meta.get_field(name).clean(value, None)
    except ValidationError as exc:
        _add(errors, name, *exc.messages)
        return None


def _unknown_keys(answers: dict, known, errors: dict) -> None:
    for key in answers:
        if key not in known:
            _add(errors, str(key), _("“%(key)s” is not a field of this form.") % {"key": key})


def _clean_instrument(code: str, answers: dict) -> tuple[dict, dict]:
    instrument = instruments.get(code)
    errors = instrument.validate(answers)
    if errors:
        return {}, errors
    return instrument.clean(answers), {}


def _clean_treg(answers: dict, visit_date: date | None) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, dict):
        return {}, {ALL: [_("Answers must be given as field: value pairs.")]}
    _unknown_keys(answers, set(TregPanel.INPUTS) | {"sample_date"}, errors)
    raw = {name: answers.get(name) for name in TregPanel.INPUTS}
    _merge(errors, validate_treg(**raw))
    values = {
        name: _model_value(TregPanel, name, raw[name], errors)
        for name in TregPanel.INPUTS
        if name not in errors
    }
    values["sample_date"] = _as_date(answers.get("sample_date"), errors, "sample_date") or (
        visit_date
    )
    return values, errors


def _clean_steroid(answers: dict, visit_date: date | None) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, dict):
        return {}, {ALL: [_("Answers must be given as field: value pairs.")]}
    _unknown_keys(answers, set(SteroidDose.INPUTS) | {"date"}, errors)
    drug = answers.get("drug")
    drug = drug.strip().lower() if isinstance(drug, str) else drug
    _merge(errors, validate_steroid(drug, answers.get("mg_per_day"), answers.get("weight_kg")))
    values = {"drug": drug}
    for name in ("mg_per_day", "weight_kg"):
        if name not in errors:
            values[name] = _model_value(SteroidDose, name, answers.get(name), errors)
    values["date"] = _as_date(answers.get("date"), errors, "date") or visit_date
    return values, errors


def _display(value) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return "" if value is None else str(value)


def _refuse_if_stale(current, expected_version, *, yours: dict, saved: dict, labels: dict):
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


# -- forms at visits ----------------------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    record: models.Model
    created: bool
    visit: ScheduledVisit


def capture_form(
    *,
    participant: Participant,
    visit: ScheduledVisit,
    form_code: str,
    visit_date: date | str | None,
    answers: dict,
    user,
    expected_version: int | None = None,
    reason: str = "",
) -> Captured:
    """Enter or correct one form at one visit; the first form dates the visit.

    `expected_version` is the record's `row_version` the user's form was loaded at (None for
    a blank form): a record saved since is refused with StaleRecord. Correcting a saved
    record needs `reason`, as does moving a visit date already recorded. A visit date
    outside the window is accepted and makes the visit a protocol deviation."""
    _require_capture(user, participant)
    reason = (reason or "").strip()
    if form_code not in CAPTURE_FORMS:
        raise ValidationError({"form": [_("There is no form “%(code)s”.") % {"code": form_code}]})
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        visit = (
            ScheduledVisit.objects.live()
            .select_for_update(of=("self",))
            .select_related("definition")
            .filter(pk=visit.pk, participant=participant)
            .first()
        )
        if visit is None:
            raise ValidationError({ALL: [_("This visit is no longer on the schedule.")]})
        existing = records_at(visit, form_code).select_for_update().first()

        errors: dict[str, list[str]] = {}
        if form_code not in forms_for_visit(visit):
            _add(
                errors,
                "form",
                _("This form is not part of visit %(visit)s.") % {"visit": visit.code},
            )
        if visit.status == VisitStatus.MISSED:
            _add(errors, ALL, _("This visit is recorded as missed: no data can be entered at it."))
        day = _as_date(visit_date, errors, "visit_date")
        if day is None and "visit_date" not in errors:
            day = visit.actual_date
            if day is None:
                _add(errors, "visit_date", _("This field is required."))
        if day is not None:
            if day > site_today(participant.site):
                _add(errors, "visit_date", _("A visit date cannot be in the future."))
            elif visit.actual_date and day != visit.actual_date and not reason:
                _add(
                    errors,
                    "visit_date",
                    _(
                        "This visit is recorded on %(date)s. Enter that date, or give a reason "
                        "for change to move the visit."
                    )
                    % {"date": visit.actual_date.isoformat()},
                )
        if form_code in INSTRUMENT_CODES:
            values, value_errors = _clean_instrument(form_code, answers)
        elif form_code == TREG_PANEL:
            values, value_errors = _clean_treg(answers, day)
        else:
            values, value_errors = _clean_steroid(answers, day)
        _merge(errors, value_errors)
        if errors:
            raise ValidationError(errors)

        if existing is not None:
            yours, saved, labels = _comparable(form_code, existing, values)
            yours["visit_date"], saved["visit_date"] = day, visit.actual_date
            labels["visit_date"] = _("visit date")
            _refuse_if_stale(existing, expected_version, yours=yours, saved=saved, labels=labels)
            if yours == saved:
                return Captured(existing, False, visit)  # nothing to change: no audit noise
            if not reason:
                raise ValidationError(
                    {"reason_for_change": [_("Give a reason for changing saved data.")]}
                )

        if visit.actual_date != day:
            visit = _date_visit(
                visit, day, user=user, reason=reason or f"Visit date entered with {form_code}"
            )
        entry_reason = reason or _first_entry(form_code)
        if form_code in INSTRUMENT_CODES:
            record = _save_instrument(
                participant, visit, form_code, values, existing, user, entry_reason
            )
        elif form_code == TREG_PANEL:
            record = _save_treg(participant, visit, values, existing, user, entry_reason)
        else:
            record = _save_steroid(participant, visit, values, existing, user, entry_reason)
        return Captured(record, existing is None, visit)


def _first_entry(form_code: str) -> str:
    return f"Initial entry of {form_code}"


def _comparable(form_code: str, existing, values: dict) -> tuple[dict, dict, dict]:
    """(yours, saved, labels) over what the user enters, for conflicts and no-op edits."""
    if form_code in INSTRUMENT_CODES:
        instrument = instruments.get(form_code)
        labels = {item.code: item.label for item in instrument.items}
        return dict(values), dict(existing.answers), labels
    model = type(existing)
    names = list(values)
    labels = {name: model._meta.get_field(name).verbose_name for name in names}
    return dict(values), {name: getattr(existing, name) for name in names}, labels


def _date_visit(visit: ScheduledVisit, day: date, *, user, reason: str) -> ScheduledVisit:
    changes = {"actual_date": day, "status": VisitStatus.DONE}
    if visit.is_unscheduled:  # its window is its date: moving it is not a deviation
        changes.update(
            target_date=day,
            window_start=day,
            window_end=day,
            study_day=study_day_of(visit.participant.baseline_date, day)
            if visit.participant.baseline_date
            else None,
        )
    updated = update_record(
        visit, expected_version=visit.row_version, changes=changes, user=user, reason=reason
    )
    updated.definition = visit.definition
    return updated


def _save(model, existing, fields: dict, *, user, reason: str, **create_fields):
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


def _save_instrument(participant, visit, code, answers, existing, user, reason):
    score = instruments.get(code).score(answers)
    fields = {
        "answers": answers,
        "total": score.total,
        "band": score.band or "",
        "alerts": list(score.alerts),
        "details": score.details,
    }
    response = _save(
        InstrumentResponse,
        existing,
        fields,
        user=user,
        reason=reason,
        participant=participant,
        scheduled_visit=visit,
        instrument=code,
    )
    _sync_alerts(response, score.alerts, user=user, reason=reason)
    return response


def _sync_alerts(response: InstrumentResponse, alerts, *, user, reason: str) -> None:
    """Keep one standing InstrumentAlert per alert; a cleared one is closed, never deleted."""
    standing = {a.code: a for a in response.alert_records.filter(cleared_at__isnull=True)}
    now = timezone.now()
    with acting(user, reason):
        for code in alerts:
            if code not in standing:
                InstrumentAlert.objects.create(
                    response=response,
                    participant_id=response.participant_id,
                    code=code,
                    raised_at=now,
                    raised_by=user,
                )
        for code, alert in standing.items():
            if code not in alerts:
                alert.cleared_at = now
                alert.save(update_fields=["cleared_at"])


# Treg panels and steroid doses store their change from the baseline visit's record; when
# the baseline record is entered or corrected, the others are recomputed in the same
# transaction. That recomputation is derived data only, so it does not bump the others'
# row_version (a user editing one of them is not in conflict with a baseline correction).


def _treg_derived(panel: TregPanel | None) -> TregDerived | None:
    if panel is None:
        return None
    return TregDerived(
        lymphocytes_per_ul=panel.lymphocytes_per_ul,
        cd4_per_ul=panel.derived_cd4_per_ul,
        treg_pct_of_cd4=panel.treg_pct_of_cd4,
        tcon_pct_of_cd4=panel.tcon_pct_of_cd4,
        treg_per_ul=panel.treg_per_ul,
        tcon_per_ul=panel.tcon_per_ul,
        treg_tcon_ratio=panel.treg_tcon_ratio,
    )


def _treg_fields(inputs: dict, baseline: TregPanel | None) -> dict:
    derived = derive_treg(
        **{name: inputs.get(name) for name in TregPanel.INPUTS}, baseline=_treg_derived(baseline)
    )
    return {
        "derived_cd4_per_ul": derived.cd4_per_ul,
        "treg_per_ul": derived.treg_per_ul,
        "tcon_per_ul": derived.tcon_per_ul,
        "treg_tcon_ratio": derived.treg_tcon_ratio,
        "treg_pct_change": derived.treg_pct_change,
        "treg_pct_change_pct": derived.treg_pct_change_pct,
        "treg_per_ul_change": derived.treg_per_ul_change,
        "treg_per_ul_change_pct": derived.treg_per_ul_change_pct,
    }


def _save_treg(participant, visit, values, existing, user, reason):
    base_visit = baseline_visit(participant)
    is_baseline = base_visit is not None and base_visit.pk == visit.pk
    baseline = (
        None
        if is_baseline or base_visit is None
        else TregPanel.objects.filter(scheduled_visit=base_visit).first()
    )
    fields = {**values, **_treg_fields(values, baseline)}
    panel = _save(
        TregPanel,
        existing,
        fields,
        user=user,
        reason=reason,
        participant=participant,
        scheduled_visit=visit,
    )
    if is_baseline:
        others = TregPanel.objects.filter(participant=participant).exclude(pk=panel.pk)
        with acting(user, "Change from baseline recomputed: baseline Treg panel saved"):
            for other in others.select_for_update():
                derived = _treg_fields({n: getattr(other, n) for n in TregPanel.INPUTS}, panel)
                if any(getattr(other, n) != v for n, v in derived.items()):
                    for name, value in derived.items():
                        setattr(other, name, value)
                    other.save(update_fields=[*derived, "updated_at"])
    return panel


def _steroid_fields(values: dict, baseline_eq: Decimal | None) -> dict:
    pred_eq = prednisone_equivalent(values["drug"], values["mg_per_day"])
    return {
        "prednisone_eq_mg": pred_eq,
        "mg_per_kg_per_day": mg_per_kg(pred_eq, values.get("weight_kg")),
        "baseline_prednisone_eq_mg": baseline_eq,
        "pct_change_from_baseline": percent_change(baseline_eq, pred_eq),
        "steroid_sparing": is_steroid_sparing_response(baseline_eq, pred_eq),
    }


def _save_steroid(participant, visit, values, existing, user, reason):
    base_visit = baseline_visit(participant)
    is_baseline = base_visit is not None and base_visit.pk == visit.pk
    baseline = (
        None
        if is_baseline or base_visit is None
        else SteroidDose.objects.filter(scheduled_visit=base_visit).first()
    )
    fields = {**values, **_steroid_fields(values, baseline and baseline.prednisone_eq_mg)}
    dose = _save(
        SteroidDose,
        existing,
        fields,
        user=user,
        reason=reason,
        participant=participant,
        scheduled_visit=visit,
    )
    if is_baseline:
        others = SteroidDose.objects.filter(participant=participant).exclude(pk=dose.pk)
        with acting(user, "Change from baseline recomputed: baseline steroid dose saved"):
            for other in others.select_for_update():
                inputs = {n: getattr(other, n) for n in SteroidDose.INPUTS}
                derived = _steroid_fields(inputs, dose.prednisone_eq_mg)
                if any(getattr(other, n) != v for n, v in derived.items()):
                    for name, value in derived.items():
                        setattr(other, name, value)
                    other.save(update_fields=[*derived, "updated_at"])
    return dose


# -- visits -------------------------------------------------------------------------------


def add_unscheduled_visit(
    *, participant: Participant, visit_date: date, reason: str, user
) -> ScheduledVisit:
    """An extra visit (U1, U2, ...) on `visit_date`; its window is that day."""
    _require_capture(user, participant)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        _add(errors, "reason", _("Say why the visit took place."))
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        if participant.baseline_date is None:
            _add(errors, ALL, _("Only an enrolled participant can have visits."))
        day = _as_date(visit_date, errors, "visit_date")
        if day is None and "visit_date" not in errors:
            _add(errors, "visit_date", _("This field is required."))
        elif day is not None and day > site_today(participant.site):
            _add(errors, "visit_date", _("A visit date cannot be in the future."))
        if errors:
            raise ValidationError(errors)
        number = participant.visits.filter(is_unscheduled=True).count() + 1
        with acting(user, reason):
            return ScheduledVisit.objects.create(
                participant=participant,
                protocol_version=participant.protocol_version,
                definition=None,
                code=f"U{number}",
                name=_("Unscheduled visit %(n)s") % {"n": number},
                study_day=study_day_of(participant.baseline_date, day),
                target_date=day,
                window_start=day,
                window_end=day,
                status=VisitStatus.DONE,
                actual_date=day,
                is_unscheduled=True,
                status_reason=reason,
            )


def mark_visit_missed(
    *, visit: ScheduledVisit, reason: str, user, expected_version: int | None = None
) -> ScheduledVisit:
    """Record that an upcoming visit did not take place, and why."""
    participant = visit.participant
    _require_capture(user, participant)
    with transaction.atomic():
        Participant.objects.select_for_update().get(pk=participant.pk)
        current = ScheduledVisit.objects.select_for_update().get(pk=visit.pk)
        if current.status != VisitStatus.UPCOMING:
            raise ValidationError({ALL: [_("Only an upcoming visit can be recorded as missed.")]})
        if any(
            model.objects.filter(scheduled_visit=current).exists()
            for model in (InstrumentResponse, TregPanel, SteroidDose)
        ):
            raise ValidationError(
                {ALL: [_("Data are recorded at this visit: it cannot be missed.")]}
            )
        if not (reason or "").strip():
            raise ValidationError({"reason": [_("Say why the visit was missed.")]})
        return update_record(
            current,
            expected_version=current.row_version if expected_version is None else expected_version,
            changes={"status": VisitStatus.MISSED, "status_reason": reason.strip()},
            user=user,
            reason=reason.strip(),
        )


# -- the dose log ---------------------------------------------------------------------------


def record_dose(
    *,
    planned_dose: PlannedDose,
    user,
    given: bool,
    administered_on: date | str | None = None,
    administered_time=None,
    actual_dose=None,
    lot: str = "",
    injection_site: str = "",
    local_reaction: str = "",
    notes: str = "",
    reason_not_given: str = "",
    expected_version: int | None = None,
    reason: str = "",
) -> Captured:
    """Record a planned dose as given (on its real date, which may be another day) or not
    given (with why). Correcting a recorded dose needs `reason` and a current version."""
    participant = planned_dose.participant
    _require_capture(user, participant)
    reason = (reason or "").strip()
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        dose = (
            PlannedDose.objects.live()
            .select_for_update()
            .filter(pk=planned_dose.pk, participant=participant)
            .first()
        )
        if dose is None:
            raise ValidationError({ALL: [_("This dose is no longer on the schedule.")]})
        existing = DoseAdministration.objects.select_for_update().filter(planned_dose=dose).first()
        today = site_today(participant.site)
        errors: dict[str, list[str]] = {}
        if not isinstance(given, bool):
            _add(errors, "given", _("Say whether the dose was given."))
        if given is True:
            day = _as_date(administered_on, errors, "administered_on")
            if day is None and "administered_on" not in errors:
                _add(errors, "administered_on", _("Enter the date the dose was given."))
            elif day is not None and day > today:
                _add(errors, "administered_on", _("A dose cannot be recorded in the future."))
            elif day is not None and participant.baseline_date and day < participant.baseline_date:
                _add(
                    errors, "administered_on", _("This date is before the participant's baseline.")
                )
            amount = _model_value(DoseAdministration, "actual_dose", actual_dose, errors)
            if amount is None and "actual_dose" not in errors:
                amount = dose.dose
            if amount is not None and amount <= 0:
                _add(errors, "actual_dose", _("The dose given must be more than 0."))
            values = {
                "given": True,
                "administered_on": day,
                "administered_time": _model_value(
                    DoseAdministration, "administered_time", administered_time, errors
                ),
                "actual_dose": amount,
                "lot": _model_value(DoseAdministration, "lot", lot, errors) or "",
                "injection_site": _model_value(
                    DoseAdministration, "injection_site", injection_site, errors
                )
                or "",
                "local_reaction": _model_value(
                    DoseAdministration, "local_reaction", local_reaction, errors
                )
                or "",
                "notes": (notes or "").strip(),
                "reason_not_given": "",
            }
        else:
            if _blank(reason_not_given):
                _add(errors, "reason_not_given", _("Say why the dose was not given."))
            if dose.date > today:
                _add(
                    errors,
                    ALL,
                    _("A dose can be recorded as not given from its planned day (%(date)s).")
                    % {"date": dose.date.isoformat()},
                )
            values = {
                "given": False,
                "administered_on": None,
                "administered_time": None,
                "actual_dose": None,
                "lot": "",
                "injection_site": "",
                "local_reaction": "",
                "notes": (notes or "").strip(),
                "reason_not_given": (reason_not_given or "").strip(),
            }
        if errors:
            raise ValidationError(errors)

        if existing is not None:
            labels = {n: DoseAdministration._meta.get_field(n).verbose_name for n in values}
            saved = {n: getattr(existing, n) for n in values}
            _refuse_if_stale(existing, expected_version, yours=values, saved=saved, labels=labels)
            if values == saved:
                return Captured(existing, False, None)
            if not reason:
                raise ValidationError(
                    {"reason_for_change": [_("Give a reason for changing saved data.")]}
                )
        entry_reason = reason or (
            "Dose recorded as given" if given else "Dose recorded as not given"
        )
        record = _save(
            DoseAdministration,
            existing,
            values,
            user=user,
            reason=entry_reason,
            planned_dose=dose,
            participant=participant,
            unit=dose.unit,
        )
        status = DoseStatus.GIVEN if given else DoseStatus.NOT_GIVEN
        if dose.status != status:
            update_record(
                dose,
                expected_version=dose.row_version,
                changes={"status": status},
                user=user,
                reason=entry_reason,
            )
        return Captured(record, existing is None, None)


# -- reads the pages share ------------------------------------------------------------------


def entered_records(visit_ids) -> dict[int, dict[str, models.Model]]:
    """{visit id: {form code: record}} for the visits: three queries, whatever their number."""
    found: dict[int, dict[str, models.Model]] = {pk: {} for pk in visit_ids}
    for response in InstrumentResponse.objects.filter(scheduled_visit_id__in=visit_ids):
        found[response.scheduled_visit_id][response.instrument] = response
    for model, code in ((TregPanel, TREG_PANEL), (SteroidDose, STEROID_DOSE)):
        for record in model.objects.filter(scheduled_visit_id__in=visit_ids):
            found[record.scheduled_visit_id][code] = record
    return found


@dataclass
class FormCell:
    """One form at one visit, as the visit page and the participant grid show it."""

    code: str
    label: str
    kind: str  # "capture", "eligibility" or "adverse_events"
    required: bool
    record: models.Model | None = None
    open_queries: int = 0

    @property
    def audit_label(self) -> str | None:
        return None if self.record is None else self.record._meta.label_lower

    @property
    def status(self) -> str:
        if self.kind != "capture":
            return "elsewhere"
        if self.record is None:
            return "missing" if self.required else "optional"
        return "queries" if self.open_queries else "entered"


def form_cells(visit, records: dict, protocol_forms: list[str], counts: dict) -> list[FormCell]:
    cells = []
    required = visit.definition.forms if visit.definition_id else []
    for code in forms_for_visit(visit, protocol_forms):
        record = records.get(code)
        kind = {ELIGIBILITY: "eligibility", ADVERSE_EVENTS: "adverse_events"}.get(code, "capture")
        key = (record._meta.label_lower, record.pk) if record is not None else None
        cells.append(
            FormCell(
                code=code,
                label=form_label(code),
                kind=kind,
                required=code in required,
                record=record,
                open_queries=counts.get(key, 0) if key else 0,
            )
        )
    return cells


@dataclass(frozen=True)
class Adherence:
    given: int
    due: int
    planned: int

    @property
    def percent(self) -> Decimal | None:
        if not self.due:
            return None
        return (Decimal(100) * self.given / self.due).quantize(Decimal("0.1"), ROUND_HALF_UP)


def adherence(doses, today: date) -> Adherence:
    """% of the planned doses due so far (planned date up to today, or already recorded)
    that were given."""
    due = [d for d in doses if d.date <= today or d.status != DoseStatus.PLANNED]
    return Adherence(
        given=sum(d.status == DoseStatus.GIVEN for d in doses),
        due=len(due),
        planned=len(doses),
    )


def dose_state(dose: PlannedDose, today: date) -> str:
    """given / given_other_day / not_given / missed (past, nothing recorded) / planned."""
    if dose.status == DoseStatus.GIVEN:
        admin = getattr(dose, "administration", None)
        if admin is not None and admin.administered_on != dose.date:
            return "given_other_day"
        return "given"
    if dose.status == DoseStatus.NOT_GIVEN:
        return "not_given"
    return "missed" if dose.date < today else "planned"


@dataclass
class DashboardVisit:
    visit: ScheduledVisit
    state: str  # due_today, in_window, this_week, overdue


@dataclass
class SiteBoard:
    site: Site
    today: date
    today_visits: list = field(default_factory=list)
    week_visits: list = field(default_factory=list)
    overdue_visits: list = field(default_factory=list)
    doses_today: list = field(default_factory=list)
    doses_unrecorded: int = 0
    missing_forms: list = field(default_factory=list)  # (visit, [form codes])
    deviations: int = 0


def coordinator_dashboard(user, *, now: datetime | None = None) -> list[SiteBoard]:
    """Per site the user covers: today's and this week's visits, overdue visits, doses due
    today, past doses not recorded, done visits with forms missing, deviations.

    A fixed number of queries whatever the number of sites, participants and visits."""
    sites = list(
        Site.objects.visible_to(user).select_related("study").order_by("study__code", "code")
    )
    if not sites:
        return []
    boards = {site.pk: SiteBoard(site=site, today=site_today(site, now)) for site in sites}
    earliest = min(b.today for b in boards.values())
    latest = max(b.today for b in boards.values())
    on_study = Q(participant__status=ParticipantStatus.ENROLLED, participant__site__in=sites)

    upcoming = (
        ScheduledVisit.objects.visible_to(user)
        .filter(on_study, status=VisitStatus.UPCOMING, window_start__lte=latest + _WEEK)
        .select_related("participant", "participant__site")
        .order_by("window_end", "participant__subject_id")
    )
    for visit in upcoming:
        board = boards[visit.participant.site_id]
        today = board.today
        if visit.window_end < today:
            board.overdue_visits.append(DashboardVisit(visit, "overdue"))
        elif visit.target_date == today:
            board.today_visits.append(DashboardVisit(visit, "due_today"))
        elif visit.window_start <= today:
            board.today_visits.append(DashboardVisit(visit, "in_window"))
        elif visit.window_start <= today + _WEEK:
            board.week_visits.append(DashboardVisit(visit, "this_week"))

    doses = (
        PlannedDose.objects.visible_to(user)
        .filter(on_study, status=DoseStatus.PLANNED, date__range=(earliest, latest))
        .select_related("participant")
        .order_by("participant__subject_id")
    )
    for dose in doses:
        board = boards[dose.participant.site_id]
        if dose.date == board.today:
            board.doses_today.append(dose)

    # Past doses with nothing recorded, counted per site against that site's today (the
    # sites' todays are at most two days apart, so three buckets cover every case).
    unrecorded = (
        PlannedDose.objects.visible_to(user)
        .filter(on_study, status=DoseStatus.PLANNED, date__lt=latest)
        .values("participant__site")
        .annotate(
            before=Count("pk", filter=Q(date__lt=earliest)),
            day0=Count("pk", filter=Q(date=earliest)),
            day1=Count("pk", filter=Q(date=earliest + _DAY)),
        )
    )
    for row in unrecorded:
        board = boards[row["participant__site"]]
        gap = (board.today - earliest).days
        board.doses_unrecorded = (
            row["before"] + (row["day0"] if gap >= 1 else 0) + (row["day1"] if gap >= 2 else 0)
        )

    done = (
        ScheduledVisit.objects.visible_to(user)
        .filter(on_study, status=VisitStatus.DONE, definition__isnull=False)
        .select_related("participant", "definition")
        .annotate(
            instruments_entered=ArraySubquery(
                InstrumentResponse.objects.filter(scheduled_visit=OuterRef("pk")).values(
                    "instrument"
                )
            ),
            has_treg=Exists(TregPanel.objects.filter(scheduled_visit=OuterRef("pk"))),
            has_steroid=Exists(SteroidDose.objects.filter(scheduled_visit=OuterRef("pk"))),
        )
        .order_by("actual_date", "participant__subject_id")
    )
    for visit in done:
        entered = set(visit.instruments_entered or [])
        if visit.has_treg:
            entered.add(TREG_PANEL)
        if visit.has_steroid:
            entered.add(STEROID_DOSE)
        missing = [c for c in visit.definition.forms if c in CAPTURE_FORMS and c not in entered]
        if missing:
            boards[visit.participant.site_id].missing_forms.append((visit, missing))

    deviations = (
        ScheduledVisit.objects.visible_to(user)
        .filter(participant__site__in=sites)
        .live()
        .filter(OUT_OF_WINDOW | Q(status=VisitStatus.MISSED))
        .values("participant__site")
        .annotate(n=Count("pk"))
    )
    for row in deviations:
        boards[row["participant__site"]].deviations = row["n"]
    return list(boards.values())


_DAY = timedelta(days=1)
_WEEK = timedelta(days=6)  # today and the next six days


@dataclass(frozen=True)
class Deviation:
    visit: ScheduledVisit
    kind: str  # "out_of_window" or "missed"

    @property
    def days_outside(self) -> int | None:
        v = self.visit
        if self.kind != "out_of_window":
            return None
        if v.actual_date < v.window_start:
            return (v.actual_date - v.window_start).days
        return (v.actual_date - v.window_end).days


def deviations_for(
    user, study: Study, *, participant: Participant | None = None
) -> list[Deviation]:
    """Visits out of their window or missed, at the study's sites the user covers."""
    visits = (
        ScheduledVisit.objects.visible_to(user)
        .filter(participant__study=study)
        .live()
        .filter(OUT_OF_WINDOW | Q(status=VisitStatus.MISSED))
        .select_related("participant", "participant__site")
        .order_by("participant__site__code", "participant__subject_id", "target_date")
    )
    if participant is not None:
        visits = visits.filter(participant=participant)
    return [
        Deviation(v, "missed" if v.status == VisitStatus.MISSED else "out_of_window")
        for v in visits
    ]
