"""Visit data capture: the writes that span rows (forms at visits, unscheduled and missed
visits). The dose log is in `dosing`, the reads the pages share in `selectors`, what the
writes share in `entry`, what differs between kinds of form in `form_kinds` (each kind's
cleaning and saving in `form_records`, the rules of forms defined as data in `form_rules`).

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

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.editing import update_locked_record, update_record
from audit.tracking import acting
from patients.clinical_dates import check_participant_date, with_date_bounds
from patients.models import Participant, ScheduledVisit, VisitStatus
from patients.selectors import can_see_values

from . import completeness, form_kinds
from .checks import Unconfirmed
from .entry import ALL, Captured, add_error, as_date, merge_errors, refuse_if_stale, require_capture
from .form_kinds import Entry
from .selectors import forms_for_visit, records_at, study_day_of

# -- forms at visits ----------------------------------------------------------------------


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
    confirm: Iterable[str] = (),
) -> Captured:
    """Enter or correct one form at one visit; the first form dates the visit.

    `expected_version` is the record's `row_version` the user's form was loaded at (None for
    a blank form): a record saved since is refused with StaleRecord. Correcting a saved
    record needs `reason`, as does moving a visit date already recorded. A visit date
    outside the window is accepted and makes the visit a protocol deviation. A value outside
    its soft limits, or failing a rule of severity warning, is refused with `Unconfirmed`
    unless its item (or rule id) is in `confirm`; the confirmations are stored on the record.
    What differs between kinds of form (instruments, Treg, steroid, protocol-defined) is
    in `form_kinds`. A blinded result (the protocol's `blinded_results`) is entered only by
    whoever may see it (`can_see_values`)."""
    require_capture(user, participant)
    if not can_see_values(user, participant, form_code):
        raise PermissionDenied(_("This form's results are blinded: unblinded staff enter them."))
    reason = (reason or "").strip()
    kind = form_kinds.kind_for(form_code)
    if kind is None:
        raise ValidationError({"form": [_("There is no form “%(code)s”.") % {"code": form_code}]})
    with transaction.atomic():
        # Its site (today), study and date bounds come with it: nothing more to ask below.
        participant = with_date_bounds(
            Participant.objects.select_for_update(of=("self",)).select_related("site", "study")
        ).get(pk=participant.pk)
        visit = (
            ScheduledVisit.objects.live()
            .select_for_update(of=("self",))
            .select_related("definition")
            .filter(pk=visit.pk, participant=participant)
            .first()
        )
        if visit is None:
            raise ValidationError({ALL: [_("This visit is no longer on the schedule.")]})
        visit.participant = participant  # the same row, read just above
        existing = records_at(visit, form_code).select_for_update().first()

        errors: dict[str, list[str]] = {}
        if form_code not in forms_for_visit(visit):
            add_error(
                errors,
                "form",
                _("This form is not part of visit %(visit)s.") % {"visit": visit.code},
            )
        if visit.status == VisitStatus.MISSED:
            add_error(
                errors, ALL, _("This visit is recorded as missed: no data can be entered at it.")
            )
        day = as_date(visit_date, errors, "visit_date")
        if day is None and "visit_date" not in errors:
            day = visit.actual_date
            if day is None:
                add_error(errors, "visit_date", _("This field is required."))
        if day is not None:
            if day > participant.site.today():
                add_error(errors, "visit_date", _("A visit date cannot be in the future."))
            elif visit.actual_date and day != visit.actual_date and not reason:
                add_error(
                    errors,
                    "visit_date",
                    _(
                        "This visit is recorded on %(date)s. Enter that date, or give a reason "
                        "for change to move the visit."
                    )
                    % {"date": visit.actual_date.isoformat()},
                )
            if "visit_date" not in errors:
                check_participant_date(
                    day, field="visit_date", participant=participant, errors=errors
                )
        entry = Entry(
            code=form_code,
            answers=answers,
            visit_date=day,
            visit=visit,
            existing=existing,
            confirm=confirm,
            today=participant.site.today(),
        )
        checked = kind.check(entry)
        merge_errors(errors, checked.errors)
        for name in kind.date_fields:
            if name not in errors:
                check_participant_date(
                    checked.values.get(name), field=name, participant=participant, errors=errors
                )
        if checked.warnings:
            raise Unconfirmed(errors, checked.warnings)
        if errors:
            raise ValidationError(errors)

        if existing is not None:
            yours, saved, labels = kind.comparable(existing, checked.values)
            yours["visit_date"], saved["visit_date"] = day, visit.actual_date
            labels["visit_date"] = _("visit date")
            refuse_if_stale(existing, expected_version, yours=yours, saved=saved, labels=labels)
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
        entry.visit = visit
        record = kind.save(
            entry,
            checked,
            participant=participant,
            user=user,
            reason=reason or f"Initial entry of {form_code}",
        )
        if existing is None and visit.definition and not visit.forms_complete:
            visit.forms_complete = bool(
                completeness.mark_forms_complete(
                    ScheduledVisit.objects.filter(pk=visit.pk), visit.definition.forms
                )
            )
        return Captured(record, existing is None, visit)


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
    # The caller (capture_form) holds the visit's lock: nobody saved it since it was read.
    return update_locked_record(visit, changes=changes, user=user, reason=reason)


# -- visits -------------------------------------------------------------------------------


def add_unscheduled_visit(
    *, participant: Participant, visit_date: date, reason: str, user
) -> ScheduledVisit:
    """An extra visit (U1, U2, ...) on `visit_date`; its window is that day."""
    require_capture(user, participant)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        add_error(errors, "reason", _("Say why the visit took place."))
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        if participant.baseline_date is None:
            add_error(errors, ALL, _("Only an enrolled participant can have visits."))
        day = as_date(visit_date, errors, "visit_date")
        if day is None and "visit_date" not in errors:
            add_error(errors, "visit_date", _("This field is required."))
        elif day is not None and day > participant.site.today():
            add_error(errors, "visit_date", _("A visit date cannot be in the future."))
        elif day is not None:
            check_participant_date(day, field="visit_date", participant=participant, errors=errors)
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
    require_capture(user, participant)
    with transaction.atomic():
        Participant.objects.select_for_update().get(pk=participant.pk)
        current = ScheduledVisit.objects.select_for_update().get(pk=visit.pk)
        if current.status != VisitStatus.UPCOMING:
            raise ValidationError({ALL: [_("Only an upcoming visit can be recorded as missed.")]})
        if any(
            kind.model.objects.filter(scheduled_visit=current).exists() for kind in form_kinds.KINDS
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
