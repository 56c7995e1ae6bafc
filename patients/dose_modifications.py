"""An investigator holds, resumes, reduces or stops a participant's dosing.

One service, `modify_dosing`, like `services.enrol`: keyword-only, one transaction, the
participant's row lock first (the dose log's `record_dose` takes it too, so a dose cannot
be recorded half-way through a decision), every write inside `acting(user, reason)`.

What each decision does to the planned doses from its `from_date` on:

| decision | doses changed | becomes |
| --- | --- | --- |
| hold | planned, up to `until_date` if given | held: not to be given, not reminded |
| resume | held | planned again, at the amount they had |
| reduce | planned and held | the protocol level's amount; the old one kept as `unmodified_dose` |
| stop | planned and held | cancelled, for good: no later decision is accepted |

Doses already given or recorded as not given never change, and a decision cannot start on
or before the last recorded dose: the record of what happened stays as it happened.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from audit.tracking import acting
from trials import access
from trials.models import Role

from .clinical_dates import clinical_date_problem
from .models import (
    DoseModification,
    DoseStatus,
    ModificationKind,
    Participant,
    ParticipantStatus,
    PlannedDose,
)

ALL = "__all__"
#: Only an investigator decides on dosing (ICH E6: medical decisions are the investigator's).
DECIDING_ROLES = (Role.INVESTIGATOR,)

#: The statuses each decision changes, and what it changes them to.
_CHANGES = {
    ModificationKind.HOLD: ([DoseStatus.PLANNED], DoseStatus.HELD),
    ModificationKind.RESUME: ([DoseStatus.HELD], DoseStatus.PLANNED),
    ModificationKind.REDUCE: ([DoseStatus.PLANNED, DoseStatus.HELD], None),
    ModificationKind.STOP: ([DoseStatus.PLANNED, DoseStatus.HELD], DoseStatus.CANCELLED),
}


def may_modify_dosing(user, participant: Participant) -> bool:
    return access.has_role(user, participant.study, DECIDING_ROLES, participant.site)


def dose_levels(participant: Participant) -> list:
    """The protocol's dose levels for the participant, level 1 first."""
    return list(participant.protocol_version.dose_levels)


def is_stopped(participant: Participant) -> bool:
    return participant.dose_modifications.filter(kind=ModificationKind.STOP).exists()


def _add(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


@transaction.atomic
def modify_dosing(
    *,
    participant: Participant,
    user,
    kind: str,
    from_date: date | None,
    reason: str,
    until_date: date | None = None,
    level: int | None = None,
) -> DoseModification:
    """Record an investigator's dosing decision and apply it to the planned doses.

    Refuses with PermissionDenied (403) for anyone but an investigator covering the
    participant's site, and with ValidationError({field: [messages]}) for a bad decision.
    """
    participant = (
        Participant.objects.select_for_update()
        .select_related("study", "site", "protocol_version")
        .get(pk=participant.pk)
    )
    access.require_role(user, participant.study, DECIDING_ROLES, participant.site)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if participant.status != ParticipantStatus.ENROLLED or participant.baseline_date is None:
        raise ValidationError({ALL: [_("Only an enrolled participant's dosing can change.")]})
    if is_stopped(participant):
        raise ValidationError({ALL: [_("Dosing of this participant is stopped for good.")]})
    if kind not in ModificationKind.values:
        _add(errors, "kind", _("Choose hold, resume, reduce or stop."))
    if not reason:
        _add(errors, "reason", _("Give the reason for the decision."))
    _check_from_date(participant, from_date, errors)
    if until_date is not None:
        if kind != ModificationKind.HOLD:
            _add(errors, "until_date", _("Only a hold has an end date."))
        elif (problem := _date_problem(participant, until_date)) is not None:
            _add(errors, "until_date", problem)
        elif from_date is not None and until_date < from_date:
            _add(errors, "until_date", _("A hold ends on or after the day it starts."))
    amount = None
    levels = dose_levels(participant)
    if kind == ModificationKind.REDUCE:
        if not levels:
            _add(errors, "level", _("This protocol lists no dose level to reduce to."))
        elif level is None:
            _add(errors, "level", _("Choose the dose level to reduce to."))
        elif not (isinstance(level, int) and 1 <= level <= len(levels)):
            _add(
                errors,
                "level",
                _("Level %(level)s is not one of the protocol's dose levels (1 to %(n)d).")
                % {"level": level, "n": len(levels)},
            )
        else:
            amount = levels[level - 1]
    elif level is not None:
        _add(errors, "level", _("Only a reduction has a dose level."))

    doses = None
    if not errors:
        statuses, _status = _CHANGES[kind]
        doses = participant.doses.filter(status__in=statuses, date__gte=from_date)
        if until_date is not None:
            doses = doses.filter(date__lte=until_date)
        doses = doses.select_for_update()
        if not doses.exists():
            if kind == ModificationKind.RESUME:
                _add(errors, "from_date", _("No dose is held on or after this date."))
            else:
                _add(errors, "from_date", _("No dose is planned on or after this date."))
        elif amount is not None and doses.filter(dose__lte=amount).exists():
            # The message names no amount: the reader may be blinded.
            _add(errors, "level", _("This level is not below every dose planned from this date."))
    if errors:
        raise ValidationError(errors)

    # The trail's reasons are written in English, like every service's.
    with acting(user, f"Dosing decision ({kind}) from {from_date.isoformat()}: {reason}"):
        modification = DoseModification.objects.create(
            participant=participant,
            kind=kind,
            from_date=from_date,
            until_date=until_date,
            level=level if kind == ModificationKind.REDUCE else None,
            dose=amount,
            reason=reason,
            decided_by=user,
        )
        _apply(modification, doses)
    return modification


def _apply(modification: DoseModification, doses) -> int:
    """Change `doses` (already narrowed to the decision's dates and statuses) as decided."""
    changes = {"modification": modification, "row_version": F("row_version") + 1}
    if modification.kind == ModificationKind.REDUCE:
        changes |= {
            "unmodified_dose": Coalesce("unmodified_dose", "dose"),
            "dose": modification.dose,
        }
    else:
        changes["status"] = _CHANGES[modification.kind][1]
    return doses.update(**changes)


def replay_on_new_doses(participant: Participant, doses) -> None:
    """Apply the participant's decisions, in the order taken, to doses an amendment has just
    written: a new protocol version does not undo a hold, a reduction or a stop.

    Called inside the amendment's transaction and `acting` block (`services.reconsent`)."""
    ids = list(doses.values_list("pk", flat=True))
    for modification in participant.dose_modifications.order_by("decided_at", "pk"):
        statuses, _status = _CHANGES[modification.kind]
        affected = PlannedDose.objects.filter(
            pk__in=ids, status__in=statuses, date__gte=modification.from_date
        )
        if modification.until_date is not None:
            affected = affected.filter(date__lte=modification.until_date)
        _apply(modification, affected)


def _date_problem(participant: Participant, day: date) -> str | None:
    """The clinical-date rule for a planned date: in the study's period, within a year."""
    return clinical_date_problem(day, site=participant.site, study=participant.study, planned=True)


def _check_from_date(participant: Participant, day, errors: dict) -> None:
    if day is None:
        _add(errors, "from_date", _("Enter the date the decision applies from."))
        return
    if (problem := _date_problem(participant, day)) is not None:
        _add(errors, "from_date", problem)
        return
    if day < participant.baseline_date:
        _add(errors, "from_date", _("This date is before the participant's baseline."))
        return
    last = (
        participant.doses.filter(status__in=[DoseStatus.GIVEN, DoseStatus.NOT_GIVEN])
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    if last is not None and day <= last:
        _add(
            errors,
            "from_date",
            _(
                "The dose of %(date)s is already recorded: a decision applies from the day "
                "after the last recorded dose."
            )
            % {"date": last.isoformat()},
        )
