"""A participant, from screening to completion or withdrawal."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from trials.access import site_scope
from trials.models import Arm, ProtocolVersion, Site, Stratum, Study


class ParticipantStatus(models.TextChoices):
    SCREENING = "screening", _("Screening")
    SCREEN_FAILED = "screen_failed", _("Screen failed")
    ENROLLED = "enrolled", _("Enrolled")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    UNKNOWN = "U", _("Unknown")


class ParticipantQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ParticipantQuerySet":
        """The one access filter for participants: the user's studies and sites."""
        return self.filter(site_scope(user))


@clinical_record()
class Participant(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    screening_number = models.CharField(_("screening number"), max_length=30)
    subject_id = models.CharField(_("subject id"), max_length=30, null=True, blank=True)
    year_of_birth = models.PositiveSmallIntegerField(_("year of birth"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    stratum = models.ForeignKey(
        Stratum, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ParticipantStatus.choices,
        default=ParticipantStatus.SCREENING,
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="participants"
    )
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    end_date = models.DateField(_("completion or withdrawal date"), null=True, blank=True)
    end_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Optimistic lock: bumped by every service write; a stale form is refused.
    row_version = models.PositiveIntegerField(default=1)

    objects = ParticipantQuerySet.as_manager()

    #: Never shown to a blinded user, in a page, an API answer, an export or an audit trail.
    blinded_fields = ("arm", "arm_id")

    class Meta:
        ordering = ["study", "site", "screening_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "screening_number"],
                name="participant_screening_number_unique_per_study",
            ),
            models.UniqueConstraint(
                fields=["study", "subject_id"],
                condition=Q(subject_id__isnull=False),
                name="participant_subject_id_unique_per_study",
            ),
            models.CheckConstraint(
                condition=Q(year_of_birth__gte=1900) & Q(year_of_birth__lte=2100),
                name="participant_year_of_birth_plausible",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["enrolled", "completed"])
                | (Q(subject_id__isnull=False) & Q(baseline_date__isnull=False)),
                name="participant_enrolled_has_subject_id_and_baseline",
            ),
        ]

    def __str__(self) -> str:
        return self.subject_id or self.screening_number

    def get_study(self) -> Study:
        return self.study
