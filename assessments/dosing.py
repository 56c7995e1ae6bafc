"""The dose log: each planned dose recorded as given (on its real date) or not given (with
why), and the per-dose state and adherence the log and the participant panel show.

`record_dose` follows the rules of `assessments.services`: keyword-only, one transaction,
the participant's row lock first, and edits through `audit.editing.update_record`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.editing import update_record
from patients.clinical_dates import check_participant_date
from patients.models import DoseStatus, ModificationKind, Participant, PlannedDose
from patients.selectors import may_see_amount_of

from .checks import DOSE_CHECKS, Unconfirmed, evaluate
from .entry import (
    ALL,
    Captured,
    add_error,
    as_date,
    is_blank,
    merge_errors,
    model_value,
    refuse_if_stale,
    require_capture,
    save_record,
)
from .models import DoseAdministration


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
    confirm: Iterable[str] = (),
) -> Captured:
    """Record a planned dose as given (on its real date, which may be another day) or not
    given (with why). Correcting a recorded dose needs `reason` and a current version.

    A dose given other than the planned one is refused with `Unconfirmed` unless
    "actual_dose" is in `confirm`, and ten times the plan or more is refused outright
    (assessments.checks.DOSE_LIMITS)."""
    participant = planned_dose.participant
    require_capture(user, participant)
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
        if dose.status == DoseStatus.HELD:
            raise ValidationError(
                {ALL: [_("This dose is on hold: an investigator must resume dosing first.")]}
            )
        existing = DoseAdministration.objects.select_for_update().filter(planned_dose=dose).first()
        today = participant.site.today()
        errors: dict[str, list[str]] = {}
        if not isinstance(given, bool):
            add_error(errors, "given", _("Say whether the dose was given."))
        if given is True:
            day = as_date(administered_on, errors, "administered_on")
            if day is None and "administered_on" not in errors:
                add_error(errors, "administered_on", _("Enter the date the dose was given."))
            elif day is not None and day > today:
                add_error(errors, "administered_on", _("A dose cannot be recorded in the future."))
            elif day is not None and participant.baseline_date and day < participant.baseline_date:
                add_error(
                    errors, "administered_on", _("This date is before the participant's baseline.")
                )
            else:
                check_participant_date(
                    day, field="administered_on", participant=participant, errors=errors
                )
            amount = model_value(DoseAdministration, "actual_dose", actual_dose, errors)
            if amount is None and "actual_dose" not in errors:
                amount = dose.dose
                if amount is None:
                    add_error(
                        errors,
                        "actual_dose",
                        _("Enter the dose given: its planned amount is not set yet."),
                    )
            # A placebo arm's planned amount is 0: given as planned, it is recorded as 0.
            if amount is not None and amount <= 0 and not (amount == 0 == dose.dose):
                add_error(errors, "actual_dose", _("The dose given must be more than 0."))
            values = {
                "given": True,
                "administered_on": day,
                "administered_time": model_value(
                    DoseAdministration, "administered_time", administered_time, errors
                ),
                "actual_dose": amount,
                "lot": model_value(DoseAdministration, "lot", lot, errors) or "",
                "injection_site": model_value(
                    DoseAdministration, "injection_site", injection_site, errors
                )
                or "",
                "local_reaction": model_value(
                    DoseAdministration, "local_reaction", local_reaction, errors
                )
                or "",
                "notes": (notes or "").strip(),
                "reason_not_given": "",
            }
        else:
            if is_blank(reason_not_given):
                add_error(errors, "reason_not_given", _("Say why the dose was not given."))
            if dose.date > today:
                add_error(
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
        outcome = evaluate(
            DOSE_CHECKS,
            values,
            confirm=confirm,
            context={"planned_dose": dose.dose},
            previously_confirmed=existing.confirmed_checks if existing is not None else (),
            skip=errors,
        )
        merge_errors(errors, outcome.errors)
        if outcome.warnings:
            raise Unconfirmed(errors, outcome.warnings)
        if errors:
            raise ValidationError(errors)

        if existing is not None:
            # The refusal lists yours vs saved values: an amount a blinded reader may not see
            # stays out of it (the record is still refused).
            hidden = not may_see_amount_of(user, participant, dose)
            shown = [n for n in values if not (hidden and n == "actual_dose")]
            labels = {n: DoseAdministration._meta.get_field(n).verbose_name for n in shown}
            saved = {n: getattr(existing, n) for n in shown}
            yours = {n: values[n] for n in shown}
            refuse_if_stale(existing, expected_version, yours=yours, saved=saved, labels=labels)
            if values == {n: getattr(existing, n) for n in values}:
                return Captured(existing, False, None)
            if not reason:
                raise ValidationError(
                    {"reason_for_change": [_("Give a reason for changing saved data.")]}
                )
        entry_reason = reason or (
            "Dose recorded as given" if given else "Dose recorded as not given"
        )
        record = save_record(
            DoseAdministration,
            existing,
            {**values, "confirmed_checks": outcome.confirmed},
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


# -- what the log shows -------------------------------------------------------------------


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


#: Doses an investigator took off the schedule (held, or cancelled by a stop): not due.
NOT_TO_BE_GIVEN = (DoseStatus.HELD, DoseStatus.CANCELLED)


def adherence(doses, today: date) -> Adherence:
    """% of the planned doses due so far (planned date up to today, or already recorded)
    that were given. Doses held or stopped by an investigator are not due."""
    doses = [d for d in doses if d.status not in NOT_TO_BE_GIVEN]
    due = [d for d in doses if d.date <= today or d.status != DoseStatus.PLANNED]
    return Adherence(
        given=sum(d.status == DoseStatus.GIVEN for d in doses),
        due=len(due),
        planned=len(doses),
    )


def dose_state(dose: PlannedDose, today: date) -> str:
    """given / given_other_day / not_given / held / stopped / missed (past, nothing
    recorded) / planned."""
    if dose.status == DoseStatus.GIVEN:
        admin = getattr(dose, "administration", None)
        if admin is not None and admin.administered_on != dose.date:
            return "given_other_day"
        return "given"
    if dose.status == DoseStatus.NOT_GIVEN:
        return "not_given"
    if dose.status == DoseStatus.HELD:
        return "held"
    if dose.status == DoseStatus.CANCELLED:
        return "stopped"
    return "missed" if dose.date < today else "planned"


def reduction_levels(doses, modifications) -> dict[int, int]:
    """{planned dose id: the dose level it was reduced to}, for the reduced doses.

    A reduction applies to the doses from its date that were not recorded yet, and a later
    one replaces it; a hold or resume after it leaves the amount as it was."""
    reductions = [m for m in modifications if m.kind == ModificationKind.REDUCE]
    levels = {}
    for dose in doses:
        if dose.unmodified_dose is None:
            continue
        applying = [m for m in reductions if m.from_date <= dose.date]
        if applying:
            levels[dose.pk] = max(applying, key=lambda m: (m.decided_at, m.pk)).level
    return levels


def log_doses(participant: Participant):
    """The doses the dose log and calendar show (`in_log`), in date order."""
    return (
        participant.doses.in_log().select_related("administration", "modification").order_by("date")
    )
