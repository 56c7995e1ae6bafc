"""Template tags of visit data capture.

`{% participant_panel participant %}` renders the participant page's capture panel: the
visits × forms grid, the dose calendar with adherence and the plots. The participant page
belongs to the patients app and cannot run this app's view code, so the tag builds its own
context, in nine queries whatever the number of visits, forms and doses.
"""

from dataclasses import dataclass

from django import template
from django.utils.translation import gettext as _

from assessments import dosing, entry, form_kinds, glucocorticoids, selectors
from assessments.instruments import base
from patients.clinical_dates import study_period
from patients.models import VisitStatus
from patients.selectors import can_see_values, hidden_result_codes
from trials.forms.codes import CONMED, STEROID_DOSE, TREG_PANEL

register = template.Library()


@dataclass
class GridRow:
    visit: object
    cells: list  # one per column: a FormCell, or None when the visit has no such form


@dataclass
class DoseWeek:
    week: int
    doses: list  # (PlannedDose, state)


def _number(value):
    return None if value is None else float(value)


def panel_context(participant, user, *, today=None) -> dict:
    today = today or participant.site.today()
    visits = list(
        participant.visits.live().select_related("definition").order_by("target_date", "code")
    )
    records = selectors.entered_records([v.pk for v in visits])

    # Columns: every form the participant's schedule names, in schedule order.
    columns: list[str] = []
    for visit in visits:
        if visit.definition_id is not None:
            columns.extend(c for c in visit.definition.forms if c not in columns)
    capture_columns = [c for c in columns if form_kinds.is_captured(c)]
    hidden = hidden_result_codes(user, participant)
    counts = selectors.open_query_counts([r for by in records.values() for r in by.values()])
    catalogue = form_kinds.Catalogue({v.protocol_version_id for v in visits})
    rows = []
    for visit in visits:
        found = selectors.form_cells(visit, records[visit.pk], capture_columns, counts, catalogue)
        cells = {cell.code: cell for cell in selectors.hide_blinded_values(found, hidden)}
        rows.append(GridRow(visit, [cells.get(code) for code in columns]))

    doses = list(dosing.log_doses(participant))
    weeks: dict[int, DoseWeek] = {}
    for dose in doses:
        week = (dose.study_day - 1) // 7 + 1 if dose.study_day > 0 else 0
        weeks.setdefault(week, DoseWeek(week, [])).doses.append(
            (dose, dosing.dose_state(dose, today))
        )

    efficacy = selectors.efficacy_instrument(visits)
    # A blinded result is plotted only for whoever may see it (can_see_values).
    shown = {code: code not in hidden for code in {efficacy, TREG_PANEL, STEROID_DOSE} if code}
    baseline = participant.baseline_date
    by_visit = {v.pk: v for v in visits}
    start, end = study_period(participant)

    def inside(day) -> bool:
        return day is not None and (start is None or start <= day) and day <= end

    efficacy_points, treg_pct, treg_abs, steroid, others = [], [], [], [], []
    for visit_id, by_code in records.items():
        visit = by_visit[visit_id]
        if efficacy and shown[efficacy] and efficacy in by_code and inside(visit.actual_date):
            efficacy_points.append(
                {
                    "x": selectors.study_week(baseline, visit.actual_date),
                    "y": by_code[efficacy].total,
                    "visit": visit.code,
                }
            )
        if shown[TREG_PANEL] and TREG_PANEL in by_code and inside(by_code[TREG_PANEL].sample_date):
            panel = by_code[TREG_PANEL]
            x = selectors.study_week(baseline, panel.sample_date)
            treg_pct.append({"x": x, "y": _number(panel.treg_pct_of_cd4), "visit": visit.code})
            treg_abs.append({"x": x, "y": _number(panel.treg_per_ul), "visit": visit.code})
        if shown[STEROID_DOSE] and STEROID_DOSE in by_code and inside(by_code[STEROID_DOSE].date):
            dose = by_code[STEROID_DOSE]
            x = selectors.study_week(baseline, dose.date)
            # The day's total, which the taper endpoint reads, and its concomitant part.
            steroid.append({"x": x, "y": _number(dose.total_prednisone_eq_mg), "visit": visit.code})
            others.append(
                {"x": x, "y": _number(dose.other_glucocorticoids_eq_mg), "visit": visit.code}
            )

    def ordered(points):
        return sorted((p for p in points if p["x"] is not None), key=lambda p: p["x"])

    plots = {
        "weeks_label": _("Weeks since baseline"),
        "efficacy": {
            "label": selectors.form_label(efficacy) if efficacy else "",
            "points": ordered(efficacy_points),
        },
        "treg": {
            # xgettext:no-python-format (a literal percent sign, never formatted)
            "pct_label": _("Treg % of CD4+"),
            "abs_label": _("Treg /µL"),
            "pct": ordered(treg_pct),
            "abs": ordered(treg_abs),
        },
        "steroid": {
            "label": _("Prednisone equivalent, all glucocorticoids (mg/day)"),
            "points": ordered(steroid),
            "others_label": _("of which concomitant glucocorticoids (mg/day)"),
            # Drawn only when some dose has a concomitant part.
            "others": ordered(others) if any(p["y"] for p in others) else [],
        },
    }
    return {
        "participant": participant,
        "columns": [(code, selectors.form_label(code, catalogue)) for code in columns],
        "rows": rows,
        "dose_weeks": [weeks[w] for w in sorted(weeks)],
        "adherence": dosing.adherence(doses, today),
        "today": today,
        "out_of_window": sum(v.is_out_of_window for v in visits),
        "missed_visits": sum(v.status == VisitStatus.MISSED for v in visits),
        "plots": plots,
        "has_plots": bool(plots["efficacy"]["points"] or treg_pct or steroid),
        "can_edit": entry.can_capture(user, participant),
    }


@register.inclusion_tag("assessments/participant_panel.html", takes_context=True)
def participant_panel(context, participant):
    user = context.get("user") or context["request"].user
    return {**panel_context(participant, user), "request": context.get("request")}


@register.simple_tag(takes_context=True)
def counted_glucocorticoids(context, record) -> list:
    """The CONMED rows a steroid dose's day counts (`assessments.glucocorticoids`), for its
    page to say where its total comes from; none for a reader who may not see CONMED's
    values (a protocol that blinds it)."""
    user = context.get("user") or context["request"].user
    participant = record.participant
    if not can_see_values(user, participant, CONMED):
        return []
    rows = glucocorticoids.of_participant(participant)
    return glucocorticoids.taken_on(rows, record.date, steroid_drug=record.drug)


@register.simple_tag
def dose_amount(dose, show_amounts: bool, level=None) -> str:
    """The one way a page writes a planned dose's amount.

    A reduced amount goes only to a reader who may see it (`patients.selectors.
    may_see_dose_amounts`): the others read the dose level, never an amount."""
    amount = f"{dose.dose.normalize():f} {dose.unit}"
    if dose.unmodified_dose is None:
        return amount
    if not show_amounts:
        return _("reduced to level %(level)s") % {"level": level or "?"}
    return _("%(amount)s (reduced from %(before)s)") % {
        "amount": amount,
        "before": f"{dose.unmodified_dose.normalize():f} {dose.unit}",
    }


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def band_display(label: str) -> str:
    """`{{ record.band|band_display }}`: a stored severity band in the reader's language."""
    return base.band_display(label)
