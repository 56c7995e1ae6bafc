"""Randomisation lists: generated before the first enrolment, consumed in order.

One list per stratum (or one for the study when it is not stratified), in permuted blocks
sized to the allocation ratio, from a recorded seed so it can be reproduced and checked.
Only study admins can read it. Allocation takes the next free slot under a row lock
(`SELECT ... FOR UPDATE SKIP LOCKED` in `patients.randomisation`), so two coordinators
enrolling at the same moment never share a slot.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from trials.models import Arm, ProtocolVersion, Stratum, Study

from .participant import Participant


@clinical_record()
class RandomisationList(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="randomisation_lists")
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="+"
    )
    stratum = models.ForeignKey(
        Stratum, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seed = models.CharField(_("seed"), max_length=64)
    block_sizes = models.JSONField(_("block sizes"), default=list)
    generated_at = models.DateTimeField(auto_now_add=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    #: Its trail is closed to blinded users (`audit.history`).
    allocation_trail = True

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "stratum"],
                name="randomisation_one_list_per_stratum",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.study.code} list {self.stratum.code if self.stratum_id else '(all)'}"

    def get_study(self) -> Study:
        return self.study


@clinical_record()
class RandomisationSlot(models.Model):
    allocation_list = models.ForeignKey(
        RandomisationList, on_delete=models.PROTECT, related_name="slots"
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    block = models.PositiveIntegerField(_("block"))
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="+")
    participant = models.OneToOneField(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="randomisation_slot",
    )
    allocated_at = models.DateTimeField(null=True, blank=True)

    #: Its trail is closed to blinded users (`audit.history`).
    allocation_trail = True

    class Meta:
        ordering = ["allocation_list", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation_list", "sequence"], name="randomisation_slot_sequence_unique"
            ),
            models.CheckConstraint(
                condition=Q(participant__isnull=True, allocated_at__isnull=True)
                | Q(participant__isnull=False, allocated_at__isnull=False),
                name="randomisation_slot_allocated_together",
            ),
        ]
        indexes = [
            models.Index(
                fields=["allocation_list", "sequence"],
                condition=Q(participant__isnull=True),
                name="randomisation_free_slot_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.allocation_list} #{self.sequence}"

    def get_study(self) -> Study:
        return self.allocation_list.study
