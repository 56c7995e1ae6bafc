"""Reads the capture pages, the API and the participant panel share: who may enter data,
which forms a visit takes, the records entered at visits, and the coordinator's dashboard
and protocol deviations. A site's today is `Site.today()`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import models
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy

from patients.models import (
    DoseStatus,
    Participant,
    ParticipantStatus,
    PlannedDose,
    ScheduledVisit,
    VisitStatus,
)
from trials.forms.codes import ADVERSE_EVENTS, ELIGIBILITY
from trials.models import Site, Study, VisitDefinition

from . import form_kinds

#: Which instrument the participant page plots when a protocol has several.
EFFICACY_PREFERENCE = ("RPDAI", "SLEDAI2K", "HAMD17", "PHQ9")
OUT_OF_WINDOW = Q(actual_date__lt=F("window_start")) | Q(actual_date__gt=F("window_end"))

#: The forms of a visit entered on other apps' pages.
ELSEWHERE = {
    ELIGIBILITY: ("eligibility", gettext_lazy("Eligibility")),
    ADVERSE_EVENTS: ("adverse_events", gettext_lazy("Adverse events")),
}


def form_label(code: str, catalogue: form_kinds.Catalogue | None = None) -> str:
    """A form's name; a protocol-defined form's comes from `catalogue` (its code without)."""
    if code in ELSEWHERE:
        return str(ELSEWHERE[code][1])
    return form_kinds.kind_for(code).label(code, catalogue)


# -- access, time and the protocol --------------------------------------------------------


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
        seen.extend(code for code in forms if form_kinds.is_captured(code) and code not in seen)
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
        if isinstance(form_kinds.kind_for(code), form_kinds.InstrumentKind)
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


def records_at(visit: ScheduledVisit, form_code: str) -> models.QuerySet:
    """The (at most one) record of `form_code` at `visit`, as a queryset."""
    return form_kinds.kind_for(form_code).records(visit, form_code)


def record_at(visit: ScheduledVisit, form_code: str):
    return records_at(visit, form_code).first()


def open_query_counts(records) -> dict[tuple[str, int], int]:
    """Open data queries per record, keyed by (model label, pk).

    Hook for the data-queries feature: until it lands nothing has a query, so every count
    is 0. Callers pass every record of a page at once so this stays one query."""
    return {}


# -- records entered at visits ------------------------------------------------------------


def entered_records(visit_ids) -> dict[int, dict[str, models.Model]]:
    """{visit id: {form code: record}} for the visits: one query per kind of form
    (`form_kinds.KINDS`), whatever the number of visits and forms."""
    found: dict[int, dict[str, models.Model]] = {pk: {} for pk in visit_ids}
    for kind in form_kinds.KINDS:
        for record in kind.model.objects.filter(scheduled_visit_id__in=visit_ids):
            found[record.scheduled_visit_id][kind.code_of(record)] = record
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


def form_cells(
    visit,
    records: dict,
    protocol_forms: list[str],
    counts: dict,
    catalogue: form_kinds.Catalogue | None,
) -> list[FormCell]:
    """The visit's forms; `catalogue` names the protocol-defined ones (one query a page)."""
    cells = []
    required = visit.definition.forms if visit.definition_id else []
    for code in forms_for_visit(visit, protocol_forms):
        record = records.get(code)
        kind = ELSEWHERE[code][0] if code in ELSEWHERE else "capture"
        key = (record._meta.label_lower, record.pk) if record is not None else None
        cells.append(
            FormCell(
                code=code,
                label=form_label(code, catalogue),
                kind=kind,
                required=code in required,
                record=record,
                open_queries=counts.get(key, 0) if key else 0,
            )
        )
    return cells


# -- the coordinator's dashboard and protocol deviations ----------------------------------


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
    boards = {site.pk: SiteBoard(site=site, today=site.today(now)) for site in sites}
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
        .annotate(**{f"entered_{n}": codes for n, codes in enumerate(form_kinds.entered_codes())})
        .order_by("actual_date", "participant__subject_id")
    )
    for visit in done:
        entered = {
            code
            for n in range(len(form_kinds.KINDS))
            for code in getattr(visit, f"entered_{n}") or ()
        }
        missing = [
            c for c in visit.definition.forms if form_kinds.is_captured(c) and c not in entered
        ]
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
