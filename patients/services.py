"""Writes that span rows for participants: calendars, amendments (and, later, enrolment).

Every function here runs in one transaction, takes the participant's row lock first so two
users cannot interleave, and attaches the acting user and reason to the audit trail.
"""

import re
import unicodedata
from collections.abc import Collection
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.editing import update_record
from audit.tracking import acting
from core.errors import DomainError
from signatures.models import Meaning
from signatures.services import sign, standing_signature, void_signatures
from trials import access, dosing
from trials.models import ProtocolVersion, Role, Site, Study, VersionStatus
from trials.services import phase_specs, visit_spec

from .calendar import Calendar, compute_calendar
from .clinical_dates import clinical_date_problem, consent_bound
from .dose_modifications import replay_on_new_doses
from .eligibility import clean_answers, verdict, with_derived_age
from .models import (
    Consent,
    DoseStatus,
    EligibilityAssessment,
    Participant,
    ParticipantStatus,
    PlannedDose,
    ScheduledVisit,
    Unblinding,
    VisitStatus,
)
from .randomisation import RandomisationError, allocate  # noqa: F401 (re-exported)


class CalendarError(DomainError):
    """The calendar cannot be (re)generated as asked."""


def calendar_for(version: ProtocolVersion, baseline: date, arm: str | None = None) -> Calendar:
    """The calendar of `version` for a baseline, following the phases of arm code `arm`
    (arms are rows of each version: an amendment's arm is found by the same code)."""
    return compute_calendar(
        phases=phase_specs(version),
        visits=[visit_spec(v) for v in version.visits.order_by("order")],
        baseline=baseline,
        arm=arm,
    )


def _arm_code(participant: Participant) -> str | None:
    return participant.arm.code if participant.arm_id is not None else None


def _write_calendar(
    participant: Participant,
    version: ProtocolVersion,
    calendar: Calendar,
    *,
    on_or_after: date | None = None,
    skip_visit_codes=(),
    skip_dose_days=(),
):
    definitions = {v.code: v for v in version.visits.all()}
    ScheduledVisit.objects.bulk_create(
        visit_row(participant, version, definitions, slot)
        for slot in calendar.visits
        if (on_or_after is None or slot.target_date >= on_or_after)
        and slot.code not in skip_visit_codes
    )
    rows = [
        dose_row(participant, version, slot)
        for slot in calendar.doses
        if (on_or_after is None or slot.date >= on_or_after) and slot.date not in skip_dose_days
    ]
    # An amendment's doses by body size follow the weight and height already recorded.
    measured = (
        PlannedDose.objects.filter(participant=participant, body_weight_kg__isnull=False)
        .order_by("-date")
        .first()
    )
    if measured is not None:
        for row in rows:
            if row.dose_per and (row.dose_per == "kg" or measured.body_height_cm is not None):
                _size_dose(row, measured.body_weight_kg, measured.body_height_cm)
    PlannedDose.objects.bulk_create(rows)


def _size_dose(dose: PlannedDose, weight: Decimal, height: Decimal | None) -> bool:
    """Set a dose by body size from a weight and height; False when it rounds to 0."""
    size = dosing.body_size(dose.dose_per, weight, height)
    amount = dosing.sized_dose(dose.dose_per_size, size, dose.dose_round_to)
    if amount <= 0:
        return False
    dose.dose = amount
    dose.body_weight_kg = weight
    dose.body_height_cm = height if dose.dose_per == "m2" else None
    dose.body_size = size
    return True


def visit_row(participant, version, definitions, slot, **fields) -> ScheduledVisit:
    """The unsaved visit row of one calendar slot (`definitions`: the version's, by code)."""
    return ScheduledVisit(
        participant=participant,
        protocol_version=version,
        definition=definitions[slot.code],
        code=slot.code,
        name=slot.name,
        study_day=slot.study_day,
        target_date=slot.target_date,
        window_start=slot.window_start,
        window_end=slot.window_end,
        **fields,
    )


def dose_row(participant, version, slot, **fields) -> PlannedDose:
    """The unsaved planned-dose row of one calendar slot.

    A dose by body size has no amount yet: `apply_body_size` sets it from the
    participant's weight and height.
    """
    sized = {}
    if slot.per:
        sized = {
            "dose": None,
            "dose_per": slot.per,
            "dose_per_size": slot.dose,
            "dose_round_to": slot.round_to,
        }
    return PlannedDose(
        participant=participant,
        protocol_version=version,
        phase=slot.phase,
        date=slot.date,
        study_day=slot.study_day,
        unit=slot.unit,
        route=slot.route,
        **{"dose": slot.dose, **sized, **fields},
    )


@transaction.atomic
def generate_calendar(*, participant: Participant, user=None) -> Calendar:
    """Write the participant's visits and doses from their version and baseline (enrolment)."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.baseline_date is None:
        raise CalendarError(_("A calendar needs the participant's baseline date."))
    if participant.visits.exists() or participant.doses.exists():
        raise CalendarError(_("This participant already has a calendar."))
    version = participant.protocol_version
    calendar = calendar_for(version, participant.baseline_date, _arm_code(participant))
    with acting(user, "Calendar generated at enrolment"):
        _write_calendar(participant, version, calendar)
    return calendar


@transaction.atomic
def reconsent(
    *, participant: Participant, version: ProtocolVersion, consent_date: date, user
) -> Participant:
    """Move a participant to an amended protocol version after re-consent.

    Visits and doses from the later of the amendment's effective date and the re-consent
    date are regenerated from the new version (the new protocol never applies before the
    participant agreed to it). Rows already done, given or recorded as missed / not given are
    never touched; upcoming and planned rows from that date are kept, marked superseded.
    """
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    access.require_role(user, participant.study, ENTRY_ROLES, participant.site)
    _refuse_date(consent_date, "consent_date", participant)
    if version.study_id != participant.study_id:
        raise CalendarError(_("This protocol version belongs to another study."))
    if version.status != VersionStatus.ACTIVE:
        raise CalendarError(_("Participants can only be re-consented to the active version."))
    if version.pk == participant.protocol_version_id:
        raise CalendarError(_("The participant is already on this version."))
    cutoff = max(version.effective_date, consent_date)
    reason = f"Re-consented to protocol version {version.label} on {consent_date.isoformat()}"
    with acting(user, reason):
        Consent.objects.create(
            participant=participant,
            protocol_version=version,
            consent_date=consent_date,
            obtained_by=user,
        )
        participant.protocol_version = version
        participant.row_version += 1
        participant.save(update_fields=["protocol_version", "row_version"])
        if participant.baseline_date is None:
            return participant
        participant.visits.filter(status=VisitStatus.UPCOMING, target_date__gte=cutoff).update(
            status=VisitStatus.SUPERSEDED
        )
        participant.doses.filter(status=DoseStatus.PLANNED, date__gte=cutoff).update(
            status=DoseStatus.SUPERSEDED
        )
        recorded_visits = set(participant.visits.live().values_list("code", flat=True))
        recorded_dose_days = set(
            participant.doses.live().filter(date__gte=cutoff).values_list("date", flat=True)
        )
        _write_calendar(
            participant,
            version,
            calendar_for(version, participant.baseline_date, _arm_code(participant)),
            on_or_after=cutoff,
            skip_visit_codes=recorded_visits,
            skip_dose_days=recorded_dose_days,
        )
        replay_on_new_doses(
            participant, participant.doses.filter(protocol_version=version, date__gte=cutoff)
        )
    return participant


# --- The participant journey: screening → eligibility → consent → enrolment → end ---------


class JourneyError(DomainError):
    """A step of the journey refused, with a message for the user (and the field, if any)."""


ENTRY_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)


def _refuse_date(day: date, field: str, participant: Participant, **rule) -> None:
    """The one clinical-date rule (`patients.clinical_dates`), as a refusal of this step."""
    problem = clinical_date_problem(day, site=participant.site, study=participant.study, **rule)
    if problem:
        raise JourneyError(problem, field)


@transaction.atomic
def screen(
    *,
    study: Study,
    site: Site,
    screening_number: str,
    year_of_birth: int,
    sex: str,
    stratum_code: str | None = None,
    user,
) -> Participant:
    """Register a new screening at a site, on the study's active protocol version."""
    access.require_role(user, study, ENTRY_ROLES, site)
    if site.study_id != study.pk:
        raise JourneyError(_("This site belongs to another study."), "site")
    version = study.active_version()
    if version is None:
        raise JourneyError(_("This study has no active protocol version yet."))
    strata = {s.code: s for s in version.strata.all()}
    stratum = None
    if strata:
        if not stratum_code:
            raise JourneyError(_("Choose the stratum (%s).") % ", ".join(strata), "stratum")
        stratum = strata.get(stratum_code)
        if stratum is None:
            raise JourneyError(
                _("Unknown stratum; choose one of %s.") % ", ".join(strata), "stratum"
            )
    screening_number = screening_number.strip()
    if not screening_number_allowed(version, screening_number):
        raise JourneyError(
            _("A screening number must match the protocol's pattern %s.")
            % version.screening_number_pattern,
            "screening_number",
        )
    if year_of_birth > site.today().year:
        raise JourneyError(_("The year of birth cannot be in the future."), "year_of_birth")
    taken = JourneyError(
        _("Screening number %s is already used in this study.") % screening_number,
        "screening_number",
    )
    if Participant.objects.filter(study=study, screening_number=screening_number).exists():
        raise taken
    try:
        # A savepoint: a concurrent screening may commit the same number between the check
        # above and this insert; the unique constraint then refuses it like the check does.
        with transaction.atomic(), acting(user, "Screening registered"):
            return Participant.objects.create(
                study=study,
                site=site,
                screening_number=screening_number,
                year_of_birth=year_of_birth,
                sex=sex,
                stratum=stratum,
                protocol_version=version,
            )
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint == "participant_screening_number_unique_per_study":
            raise taken from exc
        raise


def screening_number_allowed(version: ProtocolVersion, number: str) -> bool:
    """The whole number matches the protocol's pattern, and nothing in it is invisible.

    Format and control characters (a right-to-left override, a zero-width space) are
    refused whatever the pattern says: they make one identifier look like another.
    """
    if not number or any(
        unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") for ch in number
    ):
        return False
    return re.fullmatch(version.screening_number_pattern, number) is not None


@transaction.atomic
def record_eligibility(
    *,
    participant: Participant,
    answers: dict,
    assessed_on: date,
    user,
    reason: str = "",
    expected_version: int | None = None,
) -> EligibilityAssessment:
    """Store the answers and the computed verdict; a failed verdict is a screen failure.

    Changing saved answers needs a reason and voids the investigator's signature.
    """
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    access.require_role(user, participant.study, ENTRY_ROLES, participant.site)
    if participant.status not in (ParticipantStatus.SCREENING, ParticipantStatus.SCREEN_FAILED):
        raise JourneyError(_("Eligibility can no longer change once the participant is enrolled."))
    problem = clinical_date_problem(assessed_on, site=participant.site, study=participant.study)
    if problem:
        raise ValidationError({"assessed_on": [problem]})
    criteria = list(participant.protocol_version.criteria.all())
    answers, age_errors = with_derived_age(
        criteria, answers, year_of_birth=participant.year_of_birth, on=assessed_on
    )
    cleaned, errors = clean_answers(criteria, answers)
    errors.update(age_errors)  # "enter the age" says more than "answer this criterion"
    if errors:
        raise ValidationError(errors)
    result = verdict(criteria, cleaned)
    existing = EligibilityAssessment.objects.filter(participant=participant).first()
    fields = {
        "answers": cleaned,
        "eligible": result.eligible,
        "failed": list(result.failed),
        "assessed_on": assessed_on,
    }
    if existing is None:
        with acting(user, "Eligibility assessed"):
            assessment = EligibilityAssessment.objects.create(
                participant=participant, protocol_version=participant.protocol_version, **fields
            )
    else:
        assessment = update_record(
            existing,
            expected_version=expected_version or existing.row_version,
            changes=fields,
            user=user,
            reason=reason,
        )
        void_signatures(assessment, reason=f"Eligibility answers changed: {reason}", user=user)
    new_status = ParticipantStatus.SCREENING if result.eligible else ParticipantStatus.SCREEN_FAILED
    if participant.status != new_status:
        participant.status = new_status
        participant.end_reason = (
            "" if result.eligible else "Not eligible: " + ", ".join(result.failed)
        )
        participant.end_date = None if result.eligible else assessed_on
        participant.row_version += 1
        with acting(user, "Eligibility verdict"):
            participant.save()
    return assessment


def confirm_eligibility(*, participant: Participant, user, password: str):
    """The investigator's e-signature on the eligibility verdict ("eligibility confirmed")."""
    access.require_role(user, participant.study, [Role.INVESTIGATOR], participant.site)
    assessment = EligibilityAssessment.objects.filter(participant=participant).first()
    if assessment is None:
        raise JourneyError(_("Record the eligibility answers before confirming them."))
    return sign(obj=assessment, user=user, password=password, meaning=Meaning.ELIGIBILITY_CONFIRMED)


def eligibility_confirmed(participant: Participant) -> bool:
    assessment = EligibilityAssessment.objects.filter(participant=participant).first()
    return bool(
        assessment
        and assessment.eligible
        and standing_signature(assessment, Meaning.ELIGIBILITY_CONFIRMED)
    )


@transaction.atomic
def record_consent(*, participant: Participant, consent_date: date, user) -> Consent:
    access.require_role(user, participant.study, ENTRY_ROLES, participant.site)
    if consent_date > participant.site.today():
        raise JourneyError(_("The consent date cannot be in the future."), "consent_date")
    _refuse_date(consent_date, "consent_date", participant)
    version = participant.protocol_version
    if Consent.objects.filter(participant=participant, protocol_version=version).exists():
        raise JourneyError(
            _("Consent to version %s is already recorded.") % version.label, "consent_date"
        )
    with acting(user, "Consent recorded"):
        return Consent.objects.create(
            participant=participant,
            protocol_version=version,
            consent_date=consent_date,
            obtained_by=user,
        )


def _next_subject_id(participant: Participant) -> str:
    """`SITE-001`, `SITE-002`, ...: numbers are never reused (withdrawn ones stay taken)."""
    site = Site.objects.select_for_update().get(pk=participant.site_id)
    taken = Participant.objects.filter(
        study=participant.study, site=site, subject_id__isnull=False
    ).count()
    return f"{site.code}-{taken + 1:03d}"


@transaction.atomic
def enrol(
    *,
    participant: Participant,
    baseline_date: date,
    user,
    consent_date: date | None = None,
) -> Participant:
    """Enrol: subject id, arm (randomised or the single arm), baseline and calendar, at once."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    access.require_role(user, participant.study, ENTRY_ROLES, participant.site)
    if participant.status != ParticipantStatus.SCREENING:
        raise JourneyError(
            _("Only a participant in screening can be enrolled (this one is %s).")
            % participant.get_status_display()
        )
    if not eligibility_confirmed(participant):
        raise JourneyError(
            _("Eligibility must be met and confirmed by an investigator's signature first.")
        )
    if (
        consent_date is not None
        and not participant.consents.filter(protocol_version=participant.protocol_version).exists()
    ):
        record_consent(participant=participant, consent_date=consent_date, user=user)
    consent = participant.consents.filter(protocol_version=participant.protocol_version).first()
    if consent is None:
        raise JourneyError(_("Record the participant's consent before enrolment."), "consent_date")
    if baseline_date < consent.consent_date:
        raise JourneyError(_("Baseline cannot be before consent."), "baseline_date")
    _refuse_date(baseline_date, "baseline_date", participant, planned=True)
    with acting(user, "Enrolment"):
        arm = allocate(participant=participant, user=user)
        participant.arm = arm
        participant.subject_id = _next_subject_id(participant)
        participant.baseline_date = baseline_date
        participant.status = ParticipantStatus.ENROLLED
        participant.row_version += 1
        participant.save()
    generate_calendar(participant=participant, user=user)
    return participant


@transaction.atomic
def end_participation(
    *, participant: Participant, end_date: date, reason: str, user, completed: bool = False
) -> Participant:
    """Withdraw (or complete): future visits and doses are cancelled, kept, never deleted."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    access.require_role(user, participant.study, ENTRY_ROLES, participant.site)
    if participant.status != ParticipantStatus.ENROLLED:
        raise JourneyError(_("Only an enrolled participant can be withdrawn or completed."))
    if not reason.strip():
        raise JourneyError(_("Give the reason."), "reason")
    if participant.baseline_date and end_date < participant.baseline_date:
        raise JourneyError(_("The date cannot be before baseline."), "end_date")
    _refuse_date(end_date, "end_date", participant, not_before=(consent_bound(participant),))
    status = ParticipantStatus.COMPLETED if completed else ParticipantStatus.WITHDRAWN
    with acting(user, f"{status.label}: {reason}"):
        participant.status = status
        participant.end_date = end_date
        participant.end_reason = reason.strip()
        participant.row_version += 1
        participant.save()
        participant.visits.filter(status=VisitStatus.UPCOMING).update(status=VisitStatus.CANCELLED)
        participant.doses.filter(status=DoseStatus.PLANNED, date__gt=end_date).update(
            status=DoseStatus.CANCELLED
        )
    return participant


@transaction.atomic
def emergency_unblind(*, participant: Participant, user, password: str, reason: str) -> Unblinding:
    """An investigator learns one participant's arm: signed, audited, study admins told."""
    participant = Participant.objects.select_related("study").get(pk=participant.pk)
    access.require_role(user, participant.study, [Role.INVESTIGATOR], participant.site)
    if not participant.study.is_blinded_study:
        raise JourneyError(_("This study is open label: there is nothing to unblind."))
    if participant.arm_id is None:
        raise JourneyError(_("This participant has not been allocated an arm."))
    if not reason.strip():
        raise JourneyError(_("Give the medical reason for unblinding."), "reason")
    with acting(user, f"Emergency unblinding: {reason}"):
        unblinding = Unblinding.objects.create(participant=participant, user=user, reason=reason)
    sign(obj=unblinding, user=user, password=password, meaning=Meaning.UNBLINDED)
    # The study admins are told by the notifications sweep, which finds the new row.
    return unblinding


@transaction.atomic
def apply_body_size(
    *,
    participant: Participant,
    weight_kg,
    height_cm=None,
    user,
    reason: str,
    phases: Collection[str] | None = None,
    from_day: int | None = None,
    before_day: int | None = None,
) -> list[PlannedDose]:
    """Set the planned amount of the participant's doses by body size from a weight (kg)
    and height (cm): the phase's dose per kg, or per m² of Mosteller body-surface area,
    rounded to the protocol's deliverable increment (`trials.dosing`).

    Only doses still planned change (given, not given and superseded ones keep the amount
    they were planned with); each change is audited with `reason`. `phases` (names),
    `from_day` and `before_day` (study days, the latter excluded) narrow the doses sized,
    for a protocol re-sizing each cycle from that cycle's weight. Returns the doses
    changed. Refused: no weight, no height for a dose per m², or an amount rounding to 0.
    """
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    access.require_role(user, participant.study, ENTRY_ROLES, participant.site)
    weight = _measurement(weight_kg, "weight_kg", _("weight"))
    height = None if height_cm is None else _measurement(height_cm, "height_cm", _("height"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the reason for the change.")]})
    planned = PlannedDose.objects.filter(participant=participant, status=DoseStatus.PLANNED)
    if phases is not None:
        planned = planned.filter(phase__in=phases)
    if from_day is not None:
        planned = planned.filter(study_day__gte=from_day)
    if before_day is not None:
        planned = planned.filter(study_day__lt=before_day)
    doses = list(planned.select_for_update().exclude(dose_per="").order_by("date"))
    if any(d.dose_per == "m2" for d in doses) and height is None:
        raise ValidationError(
            {"height_cm": [_("A dose per m² of body-surface area needs the height.")]}
        )
    fields = ("dose", "body_weight_kg", "body_height_cm", "body_size")
    changed = []
    with acting(user, reason):
        for dose in doses:
            before = [getattr(dose, field) for field in fields]
            if not _size_dose(dose, weight, height):
                raise ValidationError(
                    {
                        "weight_kg": [
                            _("The dose for this body size rounds to 0 %(unit)s.")
                            % {"unit": dose.unit}
                        ]
                    }
                )
            if [getattr(dose, field) for field in fields] == before:
                continue
            dose.row_version += 1
            dose.save(update_fields=[*fields, "row_version"])
            changed.append(dose)
    return changed


def _measurement(value, field: str, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number <= 0:
        raise ValidationError(
            {field: [_("Enter the %(what)s as a positive number.") % {"what": what}]}
        )
    return number
