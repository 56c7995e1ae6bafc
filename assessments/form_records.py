"""How `capture_form` cleans and saves each kind of form (`form_kinds`): scored instruments
(with their standing alerts), Treg panels and steroid doses (with their change from
baseline; a steroid dose with the day's concomitant glucocorticoids), and forms the protocol
defines as data (VITALS sizes doses, CONMED recomputes the steroid doses)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.tracking import acting
from patients.models import DoseStatus
from patients.services import apply_body_size
from trials import dosing
from trials.forms.codes import BODY_HEIGHT, BODY_WEIGHT, CONMED, VITALS
from trials.services import phase_specs

from . import glucocorticoids, instruments, selectors
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
from .entry import ALL, add_error, as_date, merge_errors, model_value, save_record
from .models import FormRecord, InstrumentAlert, InstrumentResponse, SteroidDose, TregPanel

# -- cleaning -----------------------------------------------------------------------------


def _unknown_keys(answers: dict, known, errors: dict) -> None:
    for key in answers:
        if key not in known:
            add_error(errors, str(key), _("“%(key)s” is not a field of this form.") % {"key": key})


def clean_instrument(code: str, answers: dict) -> tuple[dict, dict]:
    instrument = instruments.get(code)
    errors = instrument.validate(answers)
    if errors:
        return {}, errors
    return instrument.clean(answers), {}


def clean_treg(answers: dict, visit_date: date | None) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, dict):
        return {}, {ALL: [_("Answers must be given as field: value pairs.")]}
    _unknown_keys(answers, set(TregPanel.INPUTS) | {"sample_date"}, errors)
    raw = {name: answers.get(name) for name in TregPanel.INPUTS}
    merge_errors(errors, validate_treg(**raw))
    values = {
        name: model_value(TregPanel, name, raw[name], errors)
        for name in TregPanel.INPUTS
        if name not in errors
    }
    values["sample_date"] = as_date(answers.get("sample_date"), errors, "sample_date") or (
        visit_date
    )
    return values, errors


def clean_steroid(answers: dict, visit_date: date | None) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, dict):
        return {}, {ALL: [_("Answers must be given as field: value pairs.")]}
    _unknown_keys(answers, set(SteroidDose.INPUTS) | {"date"}, errors)
    drug = answers.get("drug")
    drug = drug.strip().lower() if isinstance(drug, str) else drug
    merge_errors(
        errors, validate_steroid(drug, answers.get("mg_per_day"), answers.get("weight_kg"))
    )
    values = {"drug": drug}
    for name in ("mg_per_day", "weight_kg"):
        if name not in errors:
            values[name] = model_value(SteroidDose, name, answers.get(name), errors)
    values["date"] = as_date(answers.get("date"), errors, "date") or visit_date
    return values, errors


# -- saving -------------------------------------------------------------------------------


def save_instrument(participant, visit, code, answers, existing, user, reason):
    score = instruments.get(code).score(answers)
    fields = {
        "answers": answers,
        "total": score.total,
        "band": score.band or "",
        "alerts": list(score.alerts),
        "details": score.details,
    }
    response = save_record(
        InstrumentResponse,
        existing,
        fields,
        user=user,
        reason=reason,
        participant=participant,
        scheduled_visit=visit,
        instrument=code,
    )
    _sync_alerts(response, score.alerts, user=user, reason=reason, new=existing is None)
    return response


def _sync_alerts(response: InstrumentResponse, alerts, *, user, reason: str, new: bool) -> None:
    """Keep one standing InstrumentAlert per alert; a cleared one is closed, never deleted.
    A `new` response has none standing yet: nothing to read."""
    standing = (
        {} if new else {a.code: a for a in response.alert_records.filter(cleared_at__isnull=True)}
    )
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
# transaction. Steroid doses also add the CONMED glucocorticoids of their day, so a saved
# CONMED recomputes them too. That recomputation is derived data only, so it does not bump
# the others' row_version (a user editing one of them is not in conflict with a baseline
# correction).


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


def _save_with_baseline(
    model, what: str, derive, participant, visit, values, existing, user, reason
):
    """Save a record whose derived values compare it with the baseline visit's record.

    `derive(inputs, baseline_record)` gives the derived fields from the values of the
    model's `DERIVED_FROM` fields. Saving the baseline record itself recomputes the change
    from baseline of the participant's other records of the same form, in the same
    transaction (derived data: their row_version does not move).
    """
    base_visit = selectors.baseline_visit(participant)
    is_baseline = base_visit is not None and base_visit.pk == visit.pk
    baseline = (
        None
        if is_baseline or base_visit is None
        else model.objects.filter(scheduled_visit=base_visit).first()
    )
    record = save_record(
        model,
        existing,
        {**values, **derive(values, baseline)},
        user=user,
        reason=reason,
        participant=participant,
        scheduled_visit=visit,
    )
    if is_baseline:
        others = model.objects.filter(participant=participant).exclude(pk=record.pk)
        # Audit reasons are stored data, written in English whatever the page's language.
        with acting(user, f"Change from baseline recomputed: baseline {what} saved"):
            for other in others.select_for_update():
                _rederive(other, derive, record)
    return record


def _rederive(record, derive, baseline) -> None:
    """Recompute `record`'s derived values against `baseline` and write them if they
    changed: derived data, so its row_version does not move (the caller sets the reason)."""
    derived = derive({n: getattr(record, n) for n in type(record).DERIVED_FROM}, baseline)
    if any(getattr(record, n) != v for n, v in derived.items()):
        for name, value in derived.items():
            setattr(record, name, value)
        record.save(update_fields=[*derived, "updated_at"])


def save_treg(participant, visit, values, existing, user, reason):
    return _save_with_baseline(
        TregPanel, "Treg panel", _treg_fields, participant, visit, values, existing, user, reason
    )


def _steroid_fields(values: dict, others: Decimal, baseline_total: Decimal | None) -> dict:
    """A steroid dose's derived values: its drug's prednisone equivalent, plus `others` (the
    concomitant glucocorticoids of its day) gives the day's total, which the endpoint reads:
    mg/kg/day, and the change from `baseline_total` (the baseline record's total)."""
    pred_eq = prednisone_equivalent(values["drug"], values["mg_per_day"])
    total = pred_eq + others
    return {
        "prednisone_eq_mg": pred_eq,
        "other_glucocorticoids_eq_mg": others,
        "total_prednisone_eq_mg": total,
        "mg_per_kg_per_day": mg_per_kg(total, values.get("weight_kg")),
        "baseline_prednisone_eq_mg": baseline_total,
        "pct_change_from_baseline": percent_change(baseline_total, total),
        "steroid_sparing": is_steroid_sparing_response(baseline_total, total),
    }


def _steroid_deriver(participant):
    """`derive(inputs, baseline_record)` for the participant's steroid doses, reading their
    CONMED glucocorticoids once (`glucocorticoids`: the one rule of what counts)."""
    rows = glucocorticoids.of_participant(participant)

    def derive(inputs, baseline):
        others = glucocorticoids.prednisone_eq_on(rows, inputs["date"], steroid_drug=inputs["drug"])
        return _steroid_fields(inputs, others, baseline and baseline.total_prednisone_eq_mg)

    return derive


def save_steroid(participant, visit, values, existing, user, reason):
    return _save_with_baseline(
        SteroidDose,
        "steroid dose",
        _steroid_deriver(participant),
        participant,
        visit,
        values,
        existing,
        user,
        reason,
    )


def recompute_steroid_totals(participant, *, user, reason: str) -> None:
    """Recompute the participant's steroid doses from their CONMED glucocorticoids, after a
    CONMED record was saved, in its transaction: the baseline record first, then the others
    against its total. Derived data only: no row_version moves (nobody editing a dose is in
    conflict with a CONMED entry), and only a record whose values change is written, under
    `reason`."""
    doses = list(
        SteroidDose.objects.filter(participant=participant)
        .select_for_update()
        .order_by("date", "pk")
    )
    if not doses:
        return
    derive = _steroid_deriver(participant)
    base_visit = selectors.baseline_visit(participant)
    baseline = next(
        (d for d in doses if base_visit and d.scheduled_visit_id == base_visit.pk), None
    )
    ordered = ([baseline] if baseline else []) + [d for d in doses if d is not baseline]
    with acting(user, reason):
        for dose in ordered:
            _rederive(dose, derive, None if dose is baseline else baseline)


def save_protocol_form(participant, visit, code, values, existing, user, reason):
    record = save_record(
        FormRecord,
        existing,
        values,
        user=user,
        reason=reason,
        participant=participant,
        scheduled_visit=visit,
        form_code=code,
    )
    if code == VITALS:
        _size_doses(participant, visit, record, user=user)
    if code == CONMED:
        # Audit reasons are stored data, written in English whatever the page's language.
        recompute_steroid_totals(
            participant,
            user=user,
            reason="Prednisone-equivalent total recomputed: concomitant medication saved",
        )
    return record


def _size_doses(participant, visit, record: FormRecord, *, user) -> None:
    """The weight and height recorded at `visit` set the planned amount of the doses by body
    size they size (`_sized_by`), in the same transaction as the record: a weight giving no
    deliverable dose refuses the whole save, with the message on the item."""
    base = selectors.baseline_visit(participant)
    if base is None or visit.study_day < base.study_day:
        return
    if not participant.doses.filter(status=DoseStatus.PLANNED).exclude(dose_per="").exists():
        return
    weight, height = record.values.get(BODY_WEIGHT), record.values.get(BODY_HEIGHT)
    if weight is None:
        return
    try:
        for scope in _sized_by(participant, base, visit):
            apply_body_size(
                participant=participant,
                weight_kg=Decimal(weight),
                height_cm=None if height is None else Decimal(height),
                user=user,
                # Audit reasons are stored data, written in English whatever the page's
                # language.
                reason=f"Dose by body size from {VITALS} at {visit.code}",
                **scope,
            )
    except ValidationError as exc:
        items = {"weight_kg": BODY_WEIGHT, "height_cm": BODY_HEIGHT}
        raise ValidationError(
            {items.get(key, key): messages for key, messages in exc.message_dict.items()}
        ) from exc


def _sized_by(participant, base, visit) -> list[dict]:
    """Which doses the VITALS at `visit` size, as `apply_body_size` scopes.

    The baseline's weight sizes every dose by body size (the protocol file makes sure it is
    collected), except the cycles of a phase re-sized each cycle (`resize: each_cycle`): each
    of those cycles is sized by the latest VITALS weight recorded at a scheduled visit on or
    after baseline and on or before the cycle's first day (the visit on that day, when it
    has one), so a later weighing re-sizes its cycle and the cycles after it, until the next
    weighing, and a corrected baseline weight changes only the cycles it sizes.
    """
    arm = participant.arm.code if participant.arm_id else None
    phases = [p for p in phase_specs(participant.protocol_version) if p.applies_to(arm)]
    resized = {p.name: starts for p in phases if (starts := dosing.resize_starts(p))}
    scopes = []
    if visit.pk == base.pk:
        scopes.append({"phases": [p.name for p in phases if p.name not in resized]})
    if not resized:
        return scopes
    weighed = sorted(
        record.scheduled_visit.study_day
        for record in FormRecord.objects.filter(
            participant=participant,
            form_code=VITALS,
            scheduled_visit__in=participant.visits.live().filter(
                is_unscheduled=False, study_day__gte=base.study_day
            ),
        ).select_related("scheduled_visit")
        if record.values.get(BODY_WEIGHT) is not None
    )
    for name, starts in resized.items():
        for first, after in zip(starts, [*starts[1:], None], strict=True):
            source = max((day for day in weighed if day <= first), default=base.study_day)
            if source == visit.study_day:
                scopes.append({"phases": [name], "from_day": first, "before_day": after})
    return scopes
