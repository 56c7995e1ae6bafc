"""The investigator's eligibility checks to confirm, and the monitor's lists of changed
participants, visits and eligibility answers, registered on the home page
(`trials.worklist`) from `PatientsConfig.ready`."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from signatures.models import Meaning, Signature
from trials.models import Role
from trials.worklist import Scope, Section, changes_section, register_section

from .models import EligibilityAssessment, Participant, ParticipantStatus, ScheduledVisit


def eligibility_to_confirm(scope: Scope) -> QuerySet:
    """Participants in screening found eligible whose verdict no investigator has signed
    yet (or whose signature was voided by a later change), the oldest assessment first.

    Unsigned means no valid "eligibility confirmed" signature: `record_eligibility` voids
    the signature whenever an answer changes, so a valid one still matches the answers."""
    signed = Signature.objects.valid().filter(
        content_type=ContentType.objects.get_for_model(EligibilityAssessment),
        object_id=Cast(OuterRef("pk"), CharField()),
        meaning=Meaning.ELIGIBILITY_CONFIRMED,
    )
    assessments = EligibilityAssessment.objects.filter(
        scope.at_sites("participant__site"),
        participant__status=ParticipantStatus.SCREENING,
        eligible=True,
    ).filter(~Exists(signed))
    if scope.day:
        assessments = assessments.filter(assessed_on=scope.day)
    return assessments.select_related("participant").order_by(
        "assessed_on", "participant__screening_number", "pk"
    )


def register() -> None:
    register_section(
        Section(
            key="eligibility-to-confirm",
            role=Role.INVESTIGATOR,
            title=_("Eligibility to confirm"),
            empty=_("No eligibility verdict is waiting for your signature."),
            columns=(_("Participant"), _("Assessed on"), _("Verdict")),
            row_template="patients/worklist/_eligibility_row.html",
            rows=eligibility_to_confirm,
            day_means=_("assessed on that day"),
            site_field="participant__site",
        )
    )
    register_section(
        changes_section(
            key="changed-participants",
            model=Participant,
            title=_("Participants"),
            site_field="site",
            link=lambda p: reverse("patients:participant", args=[p.pk]),
            label=str,
        )
    )
    register_section(
        changes_section(
            key="changed-visits",
            model=ScheduledVisit,
            title=_("Visits"),
            site_field="participant__site",
            link=lambda v: reverse("assessments:visit", args=[v.participant_id, v.code]),
            label=lambda v: f"{v.participant} {v.code}",
            related=("participant",),
        )
    )
    register_section(
        changes_section(
            key="changed-eligibility",
            model=EligibilityAssessment,
            title=_("Eligibility assessments"),
            site_field="participant__site",
            link=lambda e: reverse("patients:eligibility", args=[e.participant_id]),
            label=lambda e: str(e.participant),
            related=("participant",),
        )
    )
