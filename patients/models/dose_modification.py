"""An investigator's decision to hold, resume, reduce or stop a participant's dosing.

The decision is a record of its own (who, when, why, from which date), never deleted nor
edited into another decision: a hold that ends is followed by a resume, a second reduction
is a second record. The planned doses it changes point back at it (`PlannedDose.modification`)
so the dose log can say why each dose is held, reduced or cancelled; doses already given or
recorded as not given never change (`patients.dose_modifications`).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from trials.models import Study

from .participant import Participant


class ModificationKind(models.TextChoices):
    HOLD = "hold", _("Hold")
    RESUME = "resume", _("Resume")
    REDUCE = "reduce", _("Reduce")
    STOP = "stop", _("Stop permanently")


class DoseModificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "DoseModificationQuerySet":
        return self.filter(participant__in=Participant.objects.visible_to(user))


@clinical_record()
class DoseModification(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dose_modifications"
    )
    kind = models.CharField(_("decision"), max_length=10, choices=ModificationKind.choices)
    #: The first planned dose day the decision applies to (a clinical date, no time zone).
    from_date = models.DateField(_("from"))
    #: A hold's last day, when it is held for a fixed time; empty: held until resumed.
    until_date = models.DateField(_("until"), null=True, blank=True)
    #: A reduction's protocol dose level (1 = the first of `ProtocolVersion.dose_levels`).
    level = models.PositiveSmallIntegerField(_("dose level"), null=True, blank=True)
    #: That level's amount when decided. An amount can tell the arm when arms differ in
    #: amount: blinded readers are shown the level only (`blinded_fields`).
    dose = models.DecimalField(_("dose"), max_digits=8, decimal_places=3, null=True, blank=True)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    row_version = models.PositiveIntegerField(default=1)

    objects = DoseModificationQuerySet.as_manager()

    blinded_fields = ("dose",)

    class Meta:
        ordering = ["participant", "decided_at", "pk"]
        verbose_name = _("dose modification")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="dose_modification_has_a_reason",
                violation_error_message=_("Give the reason for the decision."),
            ),
            models.CheckConstraint(
                condition=Q(until_date__isnull=True)
                | (Q(kind="hold") & Q(until_date__gte=F("from_date"))),
                name="dose_modification_until_only_for_hold_and_after_from",
                violation_error_message=_("A hold ends on or after the day it starts."),
            ),
            models.CheckConstraint(
                condition=Q(kind="reduce", level__gte=1, dose__gt=0)
                | (~Q(kind="reduce") & Q(level__isnull=True, dose__isnull=True)),
                name="dose_modification_level_only_for_reduce",
                violation_error_message=_("A reduction names its dose level; nothing else does."),
            ),
        ]
        indexes = [
            # The notifications sweep: holds and stops decided in the last few days.
            models.Index(
                fields=["decided_at"],
                condition=Q(kind__in=["hold", "stop"]),
                name="dose_modification_notice_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.kind} from {self.from_date}"

    def get_study(self) -> Study:
        return self.participant.study
