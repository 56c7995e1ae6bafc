"""The investigator's adverse events to review and the monitor's list of changed adverse
events, registered on the home page (`trials.worklist`) from `SafetyConfig.ready`."""

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from trials.models import Role
from trials.worklist import Scope, Section, changes_section, register_section

from .models import AdverseEvent


def adverse_events_to_review(scope: Scope) -> QuerySet:
    """The review queue at the investigator's sites: unreviewed events, the nearest report
    deadline first (`review_queue_order`, served by ae_review_queue_order_idx), so the
    page shows each one's countdown. The same rows as the study's review queue page."""
    events = AdverseEvent.objects.live().filter(scope.at_sites("participant__site"))
    if scope.day:
        events = events.filter(onset_date=scope.day)
    return events.unreviewed().review_queue_order().select_related("participant")


def register() -> None:
    register_section(
        Section(
            key="adverse-events-to-review",
            role=Role.INVESTIGATOR,
            title=_("Adverse events to review"),
            empty=_("No adverse event is waiting for your review."),
            columns=(_("Participant"), _("Event"), _("Grade"), _("Next report due")),
            row_template="safety/worklist/_review_row.html",
            rows=adverse_events_to_review,
            day_means=_("onset on that day"),
            site_field="participant__site",
        )
    )
    register_section(
        changes_section(
            key="changed-adverse-events",
            model=AdverseEvent,
            title=_("Adverse events"),
            site_field="participant__site",
            link=lambda ae: reverse("safety:detail", args=[ae.pk]),
            label=lambda ae: f"{ae.participant} · {ae.term}",
            related=("participant",),
        )
    )
