"""Reads the capture pages, the API and the participant panel share: who may enter data,
which forms a visit takes, the records entered at visits, and protocol deviations. The
coordinator's work lists (visits due, forms missing) are `assessments.worklist`'s sections
of the home page. A site's today is `Site.today()`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy

from patients.models import (
    Participant,
    ScheduledVisit,
    VisitStatus,
)
from trials.forms.codes import ADVERSE_EVENTS, ELIGIBILITY
from trials.models import Study, VisitDefinition

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
    """The record of `form_code` at `visit`, or None; with who entered it, which its page
    names."""
    return records_at(visit, form_code).select_related("entered_by").first()


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
    #: A blinded result the reader may not see (`patients.selectors.can_see_values`): its
    #: status shows, its values, form page and trail do not.
    values_hidden: bool = False

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


def hide_blinded_values(cells: list[FormCell], hidden: frozenset[str]) -> list[FormCell]:
    """Mark the cells whose values the user may not see: `hidden` is
    `patients.selectors.hidden_result_codes(user, participant)`."""
    for cell in cells:
        cell.values_hidden = cell.code in hidden
    return cells


# -- protocol deviations ------------------------------------------------------------------


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
