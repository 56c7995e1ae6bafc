"""Writes to adverse events: report, follow-up, investigator review, report dates, voiding.

Each function runs in one transaction, locks the AE row first (an investigator signing
while a coordinator updates must not interleave: the signature would attest values that
are no longer there), checks the role through `trials.access`, and attaches the acting
user and reason to the audit trail.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.editing import Conflict, StaleRecord
from audit.tracking import acting
from patients.clinical_dates import check_participant_date
from patients.models import Participant
from signatures.models import Meaning, Signature
from signatures.services import (
    SignatureError,
    fingerprint,
    sign,
    standing_signature,
    void_signatures,
)
from trials import access
from trials.models import Role

from .models import (
    CLINICAL_FIELDS,
    DEADLINE_FIELDS,
    MESSAGES,
    SERIOUSNESS_FIELDS,
    AdverseEvent,
)

#: Who may enter and update AEs, sign them, record report dates, void them.
ENTER_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)
SIGN_ROLES = (Role.INVESTIGATOR,)
REPORT_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR, Role.STUDY_ADMIN)
VOID_ROLES = (Role.INVESTIGATOR,)


def can_enter(user, participant: Participant) -> bool:
    return access.has_role(user, participant.study, ENTER_ROLES, participant.site)


def can_sign(user, participant: Participant) -> bool:
    return access.has_role(user, participant.study, SIGN_ROLES, participant.site)


def can_record_reports(user, participant: Participant) -> bool:
    return access.has_role(user, participant.study, REPORT_ROLES, participant.site)


def can_void(user, participant: Participant) -> bool:
    return access.has_role(user, participant.study, VOID_ROLES, participant.site)


class AlreadyReviewed(SignatureError):
    """The AE already carries a standing "reviewed" signature."""

    field = None  # nothing the signer typed is wrong


def get_adverse_event_or_404(user, pk) -> AdverseEvent:
    """The AE if the user may see its participant (study and site), else 404."""
    adverse_event = (
        AdverseEvent.objects.visible_to(user)
        .select_related("participant__study", "participant__site", "visit", "created_by")
        .filter(pk=pk)
        .first()
    )
    if adverse_event is None:
        raise Http404(_("No such adverse event."))
    return adverse_event


def review_signatures(adverse_events: Iterable[AdverseEvent]) -> dict[int, Signature]:
    """The standing "reviewed" signature of each AE that has one, in one query.

    A signature counts only if the AE still matches what was signed (same check as
    `standing_signature`), so a change made behind the services' back still shows. Each AE
    keeps its answer (`review_signature`), so a page asking `is_reviewed` row after row
    costs no further query.
    """
    by_pk = {str(ae.pk): ae for ae in adverse_events}
    if not by_pk:
        return {}
    signatures = Signature.objects.valid().filter(
        content_type=ContentType.objects.get_for_model(AdverseEvent),
        object_id__in=list(by_pk),
        meaning=Meaning.REVIEWED,
    )
    found = {
        by_pk[s.object_id].pk: s
        for s in signatures
        if s.fingerprint == fingerprint(by_pk[s.object_id])
    }
    for adverse_event in by_pk.values():
        adverse_event.review_signature = found.get(adverse_event.pk)
    return found


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Your role in this study does not allow this."))


def _normalise(fields: dict) -> dict:
    """Accept `seriousness=[codes]` for the six flags; refuse unknown names loudly."""
    fields = dict(fields)
    if "seriousness" in fields:
        codes = set(fields.pop("seriousness") or ())
        unknown = codes - set(SERIOUSNESS_FIELDS)
        if unknown:
            raise ValidationError(
                {"seriousness": _("Unknown seriousness criteria: %s") % ", ".join(sorted(unknown))}
            )
        for code, name in SERIOUSNESS_FIELDS.items():
            fields[name] = code in codes
        fields.setdefault("serious", bool(codes))
    unknown = set(fields) - set(CLINICAL_FIELDS)
    if unknown:
        raise TypeError(f"Not adverse event fields: {', '.join(sorted(unknown))}")
    return fields


def _lock(adverse_event: AdverseEvent) -> AdverseEvent:
    return (
        AdverseEvent.objects.select_for_update(of=("self",))
        .select_related("participant__study", "participant__site", "visit")
        .get(pk=adverse_event.pk)
    )


def _refuse_stale(
    current: AdverseEvent, expected_version: int | None, changes: dict, message: str | None = None
) -> None:
    if expected_version is None or current.row_version == expected_version:
        return
    conflicts = [
        Conflict(name, str(AdverseEvent._meta.get_field(name).verbose_name), value, saved)
        for name, value in changes.items()
        if (saved := getattr(current, name)) != value
    ]
    raise StaleRecord(current=current, conflicts=conflicts, message=message)


def _refuse_voided(current: AdverseEvent) -> None:
    if current.is_voided:
        raise ValidationError(_("This adverse event was voided and can no longer be changed."))


@transaction.atomic
def report_adverse_event(*, participant: Participant, user, **fields) -> AdverseEvent:
    """Record a new adverse event and put it in the investigator's review queue.

    `fields` are model field names (`term`, `onset_date`, `grade`, ...); the seriousness
    criteria may be given as `seriousness=["hospitalisation", ...]`, which also sets
    `serious` unless given. Raises ValidationError with field messages, PermissionDenied.
    """
    participant = Participant.objects.select_related("study", "site").get(pk=participant.pk)
    _require(can_enter(user, participant))
    now = timezone.now()
    adverse_event = AdverseEvent(
        participant=participant,
        created_by=user,
        awaiting_review_since=now,
        **_normalise(fields),
    )
    _check_clinical_dates(adverse_event)
    adverse_event.full_clean()
    with acting(user, _("Initial entry")):
        adverse_event.save()
    return adverse_event


def _check_clinical_dates(adverse_event: AdverseEvent) -> None:
    """The one clinical-date rule: no AE before the participant consented, nor in the
    future, nor outside the study's period (`patients.clinical_dates`)."""
    errors: dict[str, list[str]] = {}
    participant = adverse_event.participant
    for name in ("onset_date", "end_date", "death_date"):
        check_participant_date(
            getattr(adverse_event, name), field=name, participant=participant, errors=errors
        )
    awareness = adverse_event.awareness_at
    if isinstance(awareness, datetime):
        try:
            local = awareness.astimezone(participant.site.zone) if awareness.tzinfo else awareness
        except OverflowError:
            local = None
        day = local.date() if local else awareness.date()
        check_participant_date(day, field="awareness_at", participant=participant, errors=errors)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def update_adverse_event(
    *,
    adverse_event: AdverseEvent,
    user,
    changes: dict,
    reason: str,
    expected_version: int | None,
) -> AdverseEvent:
    """Follow-up of a saved AE (grade change, resolution, ...), audited with `reason`.

    A change voids the standing "reviewed" signature, visibly and with the reason, and puts
    the AE back in the review queue. Raises StaleRecord when `expected_version` is not the
    stored one, ValidationError (field messages), PermissionDenied.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason_for_change": _("Give a reason for changing saved data.")})
    reason = reason.strip()
    changes = _normalise(changes)
    current = _lock(adverse_event)
    _require(can_enter(user, current.participant))
    _refuse_voided(current)
    _refuse_stale(current, expected_version, changes)
    changed = {name: value for name, value in changes.items() if getattr(current, name) != value}
    if not changed:
        return current
    for name, value in changed.items():
        setattr(current, name, value)
    _check_clinical_dates(current)
    current.full_clean()
    if Signature.objects.for_object(current).valid().exists():
        labels = ", ".join(str(AdverseEvent._meta.get_field(name).verbose_name) for name in changed)
        void_signatures(
            current,
            reason=_("Changed after signing (%(fields)s): %(reason)s")
            % {"fields": labels, "reason": reason},
            user=user,
        )
    if current.awaiting_review_since is None:
        current.awaiting_review_since = timezone.now()
    current.row_version += 1
    with acting(user, reason):
        current.save()
    return current


@transaction.atomic
def sign_adverse_event(
    *,
    adverse_event: AdverseEvent,
    user,
    password: str,
    meaning: str = Meaning.REVIEWED,
    expected_version: int | None = None,
) -> Signature:
    """The investigator confirms grade, seriousness and relationship and signs "reviewed".

    `expected_version` is the version the investigator looked at: if the AE changed since,
    the signature is refused (StaleRecord) rather than attesting values not seen.
    Raises SignatureError (wrong password, wrong meaning, already signed), PermissionDenied.
    """
    current = _lock(adverse_event)
    _require(can_sign(user, current.participant))
    _refuse_voided(current)
    _refuse_stale(
        current,
        expected_version,
        {},
        message=_("The adverse event changed since you read it; review it again."),
    )
    if meaning != Meaning.REVIEWED:
        raise SignatureError(_("An adverse event is signed with the meaning “reviewed”."))
    if standing_signature(current, Meaning.REVIEWED):
        raise AlreadyReviewed(_("This adverse event is already signed as reviewed."))
    # Out of the queue first, then signed: the signature marks the trail's newest event, so
    # this save must not come after it (a wrong password rolls both back).
    current.awaiting_review_since = None
    with acting(user, _("Signed: reviewed")):
        current.save(update_fields=["awaiting_review_since", "updated_at"])
    return sign(obj=current, user=user, password=password, meaning=meaning)


#: `record_reports(sponsor_awareness_at=...)` left out: the recorded value stays.
UNCHANGED = object()


@transaction.atomic
def record_reports(
    *,
    adverse_event: AdverseEvent,
    user,
    reported: dict[str, datetime | None],
    reason: str = "",
    sponsor_awareness_at: datetime | None | object = UNCHANGED,
) -> AdverseEvent:
    """Record when expedited reports were sent (`{"sponsor": dt, "regulator": dt, ...}`),
    and when the sponsor first learnt of the event (None: with the investigator).

    Entering a time for the first time needs no reason; correcting or clearing a recorded
    one does. Neither is part of what the investigator signed, so the review signature
    stands. Met or missed follows from the date and the deadline; the sponsor's awareness
    moves the regulator deadlines (day 0 of that clock).
    """
    current = _lock(adverse_event)
    _require(can_record_reports(user, current.participant))
    _refuse_voided(current)
    errors: dict[str, list] = {}
    changes = {}
    if sponsor_awareness_at is not UNCHANGED and (
        sponsor_awareness_at != current.sponsor_awareness_at
    ):
        if sponsor_awareness_at is not None and sponsor_awareness_at > timezone.now():
            errors["sponsor_awareness_at"] = [MESSAGES["in_future"]]
        elif sponsor_awareness_at is not None and sponsor_awareness_at < current.awareness_at:
            errors["sponsor_awareness_at"] = [MESSAGES["sponsor_before_investigator"]]
        changes["sponsor_awareness_at"] = sponsor_awareness_at
    for kind, moment in reported.items():
        due_field, reported_field = DEADLINE_FIELDS[kind]
        if moment == getattr(current, reported_field):
            continue
        if moment is not None and getattr(current, due_field) is None:
            errors.setdefault(reported_field, []).append(
                _("This report is not required for this adverse event.")
            )
        elif moment is not None and moment > timezone.now():
            errors.setdefault(reported_field, []).append(_("This cannot be in the future."))
        elif moment is not None and moment < current.awareness_at:
            errors.setdefault(reported_field, []).append(
                _("A report cannot be sent before awareness of the event.")
            )
        changes[reported_field] = moment
    if errors:
        raise ValidationError(errors)
    if not changes:
        return current
    corrects = any(getattr(current, name) is not None for name in changes)
    if corrects and not (reason or "").strip():
        raise ValidationError(
            {"reason_for_change": _("Give a reason for changing a recorded report date.")}
        )
    for name, value in changes.items():
        setattr(current, name, value)
    current.row_version += 1
    default = (
        _("Sponsor awareness recorded")
        if set(changes) == {"sponsor_awareness_at"}
        else _("Expedited report recorded")
    )
    with acting(user, reason.strip() or default):
        current.save()
    return current


@transaction.atomic
def void_adverse_event(
    *, adverse_event: AdverseEvent, user, reason: str, expected_version: int | None = None
) -> AdverseEvent:
    """Withdraw an AE entered in error: kept and audited, out of queues, counts, clocks."""
    if not (reason or "").strip():
        raise ValidationError({"void_reason": _("Give the reason for voiding.")})
    current = _lock(adverse_event)
    _require(can_void(user, current.participant))
    _refuse_voided(current)
    _refuse_stale(current, expected_version, {})
    void_signatures(current, reason=_("Adverse event voided: %s") % reason.strip(), user=user)
    current.voided_at = timezone.now()
    current.void_reason = reason.strip()
    current.awaiting_review_since = None
    current.row_version += 1
    with acting(user, reason.strip()):
        current.save()
    return current
