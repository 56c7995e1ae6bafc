"""The coordinator's work lists (visits due and overdue, doses due, forms missing) and the
monitor's lists of changed visit records, registered on the home page (`trials.worklist`)
from `AssessmentsConfig.ready`."""

from datetime import timedelta

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from patients.models import DoseStatus, ParticipantStatus, PlannedDose, ScheduledVisit, VisitStatus
from trials import access
from trials.models import Role
from trials.worklist import Scope, Section, changes_section, register_section

from . import completeness, form_kinds
from .models import DoseAdministration, FormRecord, InstrumentResponse, SteroidDose, TregPanel
from .selectors import form_label

SITE = "participant__site"


def _on_study(scope: Scope) -> Q:
    return scope.at_sites(SITE) & Q(participant__status=ParticipantStatus.ENROLLED)


def visits_due(scope: Scope) -> QuerySet:
    """Upcoming visits whose window is open on the site's day, the soonest to close first."""
    return (
        ScheduledVisit.objects.filter(_on_study(scope), status=VisitStatus.UPCOMING)
        .filter(scope.on_their_day(SITE, lambda d: Q(window_start__lte=d, window_end__gte=d)))
        .select_related("participant")
        .order_by("window_end", "target_date", "participant__subject_id", "pk")
    )


def visits_overdue(scope: Scope) -> QuerySet:
    """Upcoming visits whose window closed before the site's day, the longest overdue first
    (served by visit_upcoming_window_idx)."""
    return (
        ScheduledVisit.objects.filter(_on_study(scope), status=VisitStatus.UPCOMING)
        .filter(scope.on_their_day(SITE, lambda d: Q(window_end__lt=d)))
        .select_related("participant")
        .order_by("window_end", "participant__subject_id", "pk")
    )


def visits_this_week(scope: Scope) -> QuerySet:
    """Upcoming visits whose window opens in the six days after the site's day, to plan."""
    return (
        ScheduledVisit.objects.filter(_on_study(scope), status=VisitStatus.UPCOMING)
        .filter(
            scope.on_their_day(
                SITE, lambda d: Q(window_start__gt=d, window_start__lte=d + timedelta(days=6))
            )
        )
        .select_related("participant")
        .order_by("window_start", "participant__subject_id", "pk")
    )


def _with_amount_hidden(scope: Scope, doses: QuerySet) -> QuerySet:
    """Each dose with `amount_hidden`: a blinded reader never reads an amount that tells the
    arm (`trials.access.studies_hiding_amounts`), nor a reduced one (as the dose log)."""
    studies = {site.study_id: site.study for site in scope.sites}.values()
    hiding = access.studies_hiding_amounts(scope.user, studies)
    blinded = [study.pk for study in studies if access.is_blinded(scope.user, study)]
    hidden = Q(participant__study_id__in=hiding) | Q(
        participant__study_id__in=blinded, unmodified_dose__isnull=False
    )
    return doses.annotate(amount_hidden=ExpressionWrapper(hidden, output_field=BooleanField()))


def doses_due(scope: Scope) -> QuerySet:
    """Planned doses of the site's day with nothing recorded (dose_planned_date_idx)."""
    return _with_amount_hidden(
        scope,
        PlannedDose.objects.filter(_on_study(scope), status=DoseStatus.PLANNED)
        .filter(scope.on_their_day(SITE, lambda d: Q(date=d)))
        .select_related("participant")
        .order_by("participant__subject_id", "date", "pk"),
    )


def doses_unrecorded(scope: Scope) -> QuerySet:
    """Planned doses before the site's day with nothing recorded, the oldest first."""
    return _with_amount_hidden(
        scope,
        PlannedDose.objects.filter(_on_study(scope), status=DoseStatus.PLANNED)
        .filter(scope.on_their_day(SITE, lambda d: Q(date__lt=d)))
        .select_related("participant")
        .order_by("date", "participant__subject_id", "pk"),
    )


# -- forms missing at done visits: one set-based query ------------------------------------


def forms_missing(scope: Scope) -> QuerySet:
    """Done visits lacking a required form's record, the oldest visit first: done on the day
    asked for, else every one. Completed and withdrawn participants' visits still count.

    One query over the visits not marked complete: a visit is listed when any form's
    `lacking` branch holds (ORed), and each branch is also selected as `lacks_<code>`, so
    the rows say which forms they lack without another query."""
    lacks = completeness.lacks_by_form(form_kinds.scheduled_forms(scope.study_ids))
    visits = (
        completeness.incomplete_done_visits()
        .filter(scope.at_sites(SITE))
        .filter(completeness.any_of(lacks))
    )
    if scope.day:
        visits = visits.filter(actual_date=scope.day)
    return (
        visits.annotate(
            **{
                f"lacks_{code}": ExpressionWrapper(q, output_field=BooleanField())
                for code, q in lacks.items()
            }
        )
        .select_related("participant", "definition")
        .order_by("actual_date", "participant__subject_id", "pk")
    )


def name_missing_forms(visits: list) -> None:
    """The forms each shown visit lacks, in the protocol's order, by name."""
    catalogue = form_kinds.Catalogue({visit.protocol_version_id for visit in visits})
    for visit in visits:
        visit.missing_forms = [
            form_label(code, catalogue)
            for code in visit.definition.forms
            if getattr(visit, f"lacks_{code}", False)
        ]


def _visit_link(record) -> str:
    visit = record.scheduled_visit
    return reverse("assessments:visit", args=[visit.participant_id, visit.code])


def _visit_label(record) -> str:
    return f"{record.participant} {record.scheduled_visit.code}"


def register() -> None:
    visit_columns = (_("Participant"), _("Visit"), _("Target"), _("Window"))
    register_section(
        Section(
            key="visits-due",
            role=Role.COORDINATOR,
            title=_("Visits due"),
            empty=_("No visit window is open today."),
            columns=visit_columns,
            row_template="assessments/worklist/_visit_row.html",
            rows=visits_due,
            day_means=_("window open on that day"),
            site_field=SITE,
        )
    )
    register_section(
        Section(
            key="visits-overdue",
            role=Role.COORDINATOR,
            title=_("Visits overdue"),
            empty=_("No overdue visit."),
            columns=visit_columns,
            row_template="assessments/worklist/_visit_row.html",
            rows=visits_overdue,
            day_means=_("window closed before that day"),
            site_field=SITE,
        )
    )
    register_section(
        Section(
            key="visits-this-week",
            role=Role.COORDINATOR,
            title=_("Visit windows opening this week"),
            empty=_("No visit window opens in the next six days."),
            columns=visit_columns,
            row_template="assessments/worklist/_visit_row.html",
            rows=visits_this_week,
            day_means=_("window opens in the six days after that day"),
            site_field=SITE,
        )
    )
    dose_columns = (_("Participant"), _("Date"), _("Dose"))
    register_section(
        Section(
            key="doses-due",
            role=Role.COORDINATOR,
            title=_("Doses due today"),
            empty=_("No dose due today."),
            columns=dose_columns,
            row_template="assessments/worklist/_dose_row.html",
            rows=doses_due,
            day_means=_("planned for that day"),
            site_field=SITE,
        )
    )
    register_section(
        Section(
            key="doses-unrecorded",
            role=Role.COORDINATOR,
            title=_("Past doses with nothing recorded"),
            empty=_("Every past dose is recorded."),
            columns=dose_columns,
            row_template="assessments/worklist/_dose_row.html",
            rows=doses_unrecorded,
            day_means=_("planned before that day"),
            site_field=SITE,
        )
    )
    register_section(
        Section(
            key="forms-missing",
            role=Role.COORDINATOR,
            title=_("Forms missing at done visits"),
            empty=_("Every done visit has its forms."),
            columns=(_("Participant"), _("Visit"), _("Visit date"), _("Missing")),
            row_template="assessments/worklist/_missing_row.html",
            rows=forms_missing,
            day_means=_("visit done on that day"),
            site_field=SITE,
            prepare=name_missing_forms,
        )
    )
    for key, model, title in (
        ("changed-instruments", InstrumentResponse, _("Scored instruments")),
        ("changed-treg", TregPanel, _("Treg panels")),
        ("changed-steroid", SteroidDose, _("Steroid doses")),
        ("changed-forms", FormRecord, _("Forms defined by the protocol")),
    ):
        register_section(
            changes_section(
                key=key,
                model=model,
                title=title,
                site_field=SITE,
                link=_visit_link,
                label=_visit_label,
                related=("participant", "scheduled_visit"),
            )
        )
    register_section(
        changes_section(
            key="changed-doses",
            model=DoseAdministration,
            title=_("Dose administrations"),
            site_field=SITE,
            link=lambda d: reverse("assessments:dose", args=[d.participant_id, d.planned_dose_id]),
            label=lambda d: f"{d.participant} {d.planned_dose.date:%Y-%m-%d}",
            related=("participant", "planned_dose"),
        )
    )
