"""One rule for every clinical date, whoever enters it (page, API or importer).

A clinical date is the site's calendar date of something that happened to a participant:
screening, eligibility assessment, consent, baseline, the end of participation, a visit, a
dose, an adverse event, a sample. Every path that takes one calls `check_clinical_date`
before it computes with the date or stores it, so a typo such as 0001-01-01 or 9999-12-31
is refused with a message next to its field instead of being saved, or failing later in
calendar arithmetic or a database column (a smallint study day, a date overflow).

The rule, in order:
- within the study's period: not before the first protocol version took effect (nothing
  happens in a study before its protocol exists);
- not after the site's today (`Site.today()`) when the event has happened; a planned date
  (the baseline of an enrolment) may be at most `PLANNING_HORIZON` ahead;
- not before the participant's first consent where the event cannot precede it (visits,
  doses, adverse events, samples, baseline), or whatever earlier event the caller names.

`patients` is the lowest layer that knows a participant: `assessments` and `safety` import
this module, never the reverse.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Min, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from trials.models import ProtocolVersion, Site, Study

from .models import Consent

#: How far ahead a planned clinical date (a baseline) may lie: an enrolment is planned
#: weeks ahead, never years; a further date is a typo that would break the calendar.
PLANNING_HORIZON = timedelta(days=366)

#: The widest dates any date field accepts before clinical checks, so arithmetic on them
#: (study days, time zones, deadlines) can never overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


@dataclass(frozen=True)
class Bound:
    """A date a clinical date cannot precede, and what it is (for the message)."""

    day: date
    what: str


def within_representable_range(day: date) -> bool:
    if isinstance(day, datetime):
        day = day.date()
    return EARLIEST_DATE <= day <= LATEST_DATE


def out_of_range_message() -> str:
    return _("Enter a date between %(start)s and %(end)s.") % {
        "start": EARLIEST_DATE.isoformat(),
        "end": LATEST_DATE.isoformat(),
    }


def with_date_bounds(participants: QuerySet) -> QuerySet:
    """The participants read with the two dates their clinical dates are bounded by (first
    consent, start of the study) in the same query, so a save checking a date, or a page
    showing the participant's period, does not ask for each of them again.

    The bounds are those of the moment of reading: for a read whose request adds no consent
    (a consent recorded later in the request is seen only by a participant read again)."""
    first_consent = (
        Consent.objects.filter(participant=OuterRef("pk"))
        .order_by("consent_date")
        .values("consent_date")[:1]
    )
    start = (
        ProtocolVersion.objects.filter(study=OuterRef("study_id"))
        .order_by("effective_date")
        .values("effective_date")[:1]
    )
    return participants.annotate(
        first_consent_date=Subquery(first_consent), study_start_date=Subquery(start)
    )


def study_start(study: Study) -> date | None:
    """The first day of the study's period: the earliest effective date of its protocol."""
    return ProtocolVersion.objects.filter(study=study).aggregate(start=Min("effective_date"))[
        "start"
    ]


def consent_bound(participant) -> Bound | None:
    """The participant's first consent: nothing of the study happens to them before it."""
    if "first_consent_date" in participant.__dict__:  # read with_date_bounds
        day = participant.first_consent_date
    else:
        first = participant.consents.order_by("consent_date").values_list("consent_date", flat=True)
        day = first.first()
    return Bound(day, _("the consent date (%s)") % day.isoformat()) if day else None


def _participant_study_start(participant) -> date | None:
    if "study_start_date" in participant.__dict__:  # read with_date_bounds
        return participant.study_start_date
    return study_start(participant.study)


def clinical_date_problem(
    day: date,
    *,
    site: Site,
    study: Study | None = None,
    planned: bool = False,
    not_before: tuple[Bound | None, ...] = (),
    start: Callable[[], date | None] | None = None,
) -> str | None:
    """Why `day` cannot be this clinical date, or None when it can. `start` gives the study's
    start where the caller already knows it (`with_date_bounds`)."""
    if not within_representable_range(day):
        return out_of_range_message()
    start = start() if start is not None else study_start(study or site.study)
    if start is not None and day < start:
        return _("The date cannot be before the study started (%s).") % start.isoformat()
    today = site.today()
    if planned:
        if day > today + PLANNING_HORIZON:
            return _("The date cannot be more than a year ahead.")
    elif day > today:
        return _("The date cannot be in the future (today is %s at the site).") % (
            today.isoformat()
        )
    for bound in not_before:
        if bound is not None and day < bound.day:
            return _("The date cannot be before %s.") % bound.what
    return None


def check_clinical_date(
    day: date | None,
    *,
    field: str,
    site: Site,
    study: Study | None = None,
    planned: bool = False,
    not_before: tuple[Bound | None, ...] = (),
    errors: dict | None = None,
    start: Callable[[], date | None] | None = None,
) -> None:
    """Apply the rule to `day` (None is left to the caller's "required" check).

    With `errors`, the message is added to that dict under `field` (for services that
    collect every problem before refusing); without it, a `ValidationError` is raised.
    """
    if not isinstance(day, date):
        return  # absent or unparsed: the caller's own field check answers
    problem = clinical_date_problem(
        day, site=site, study=study, planned=planned, not_before=not_before, start=start
    )
    if problem is None:
        return
    if errors is not None:
        errors.setdefault(field, []).append(problem)
        return
    raise ValidationError({field: [problem]})


def check_participant_date(
    day: date | None,
    *,
    field: str,
    participant,
    planned: bool = False,
    after_consent: bool = True,
    not_before: tuple[Bound | None, ...] = (),
    errors: dict | None = None,
) -> None:
    """`check_clinical_date` for a participant's event: their site, study and consent."""
    bounds = tuple(not_before)
    if after_consent:
        bounds = (consent_bound(participant), *bounds)
    check_clinical_date(
        day,
        field=field,
        site=participant.site,
        study=participant.study,
        planned=planned,
        not_before=bounds,
        errors=errors,
        start=lambda: _participant_study_start(participant),
    )


def study_period(participant) -> tuple[date | None, date | None]:
    """The participant's own period in the study: first consent (without one, the study's
    start) to the end of participation or the site's today, for what is shown about them
    (plots): a date outside it is a data error, not a point on a curve."""
    bound = consent_bound(participant)
    start = bound.day if bound else _participant_study_start(participant)
    end = participant.end_date or participant.site.today()
    return start, end
