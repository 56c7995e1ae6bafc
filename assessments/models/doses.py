"""The dose log: what happened to each planned dose (docs/API.md, `POST participants/{id}/doses/`).

One administration row per planned dose. A dose given on another day than planned keeps
its link to the planned dose and records the real date; a dose not given records why; a
planned dose with no row and a past date stays on the calendar as missed.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from patients.models import Participant, PlannedDose

from .records import VisitRecord


class InjectionSite(models.TextChoices):
    ABDOMEN_LEFT = "abdomen_left", _("Abdomen, left")
    ABDOMEN_RIGHT = "abdomen_right", _("Abdomen, right")
    THIGH_LEFT = "thigh_left", _("Thigh, left")
    THIGH_RIGHT = "thigh_right", _("Thigh, right")
    ARM_LEFT = "arm_left", _("Upper arm, left")
    ARM_RIGHT = "arm_right", _("Upper arm, right")
    OTHER = "other", _("Other")


class LocalReaction(models.TextChoices):
    NONE = "none", _("None")
    ERYTHEMA = "erythema", _("Erythema")
    INDURATION = "induration", _("Swelling or induration")
    PAIN = "pain", _("Pain or tenderness")
    PRURITUS = "pruritus", _("Pruritus")
    OTHER = "other", _("Other (describe in notes)")


@clinical_record()
class DoseAdministration(VisitRecord):
    planned_dose = models.OneToOneField(
        PlannedDose, on_delete=models.PROTECT, related_name="administration"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dose_administrations"
    )
    given = models.BooleanField(_("given"))
    reason_not_given = models.TextField(_("reason not given"), blank=True)
    #: The real date (a clinical date, no time zone): may differ from the planned date.
    administered_on = models.DateField(_("date given"), null=True, blank=True)
    #: Wall-clock time at the site, as written on the source document.
    administered_time = models.TimeField(_("time given"), null=True, blank=True)
    actual_dose = models.DecimalField(
        _("dose given"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    unit = models.CharField(_("unit"), max_length=20)
    lot = models.CharField(_("lot number"), max_length=40, blank=True)
    injection_site = models.CharField(
        _("injection site"), max_length=20, choices=InjectionSite.choices, blank=True
    )
    local_reaction = models.CharField(
        _("local reaction"), max_length=20, choices=LocalReaction.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    #: A dose given can tell the arm when arms differ in amount, or after a reduction:
    #: the record trail leaves it out for blinded readers (audit.history).
    blinded_fields = ("actual_dose",)

    #: The fields a user types in.
    INPUTS = (
        "given",
        "administered_on",
        "administered_time",
        "actual_dose",
        "lot",
        "injection_site",
        "local_reaction",
        "notes",
        "reason_not_given",
    )
    #: Left out of the trail for a blinded reader where the amount would tell the arm
    #: (`trials.access.dose_amount_hidden`).
    amount_fields = ("actual_dose",)

    class Meta:
        ordering = ["participant", "planned_dose__date"]
        verbose_name = _("dose administration")
        constraints = [
            models.CheckConstraint(
                condition=Q(given=False)
                | (Q(administered_on__isnull=False) & Q(actual_dose__isnull=False)),
                name="dose_administration_given_has_date_and_dose",
                violation_error_message=_("A dose given needs its date and the dose given."),
            ),
            models.CheckConstraint(
                condition=Q(given=True) | ~Q(reason_not_given=""),
                name="dose_administration_not_given_has_reason",
                violation_error_message=_("Say why the dose was not given."),
            ),
            # 0 only as a placebo arm's planned 0 (assessments.dosing.record_dose decides).
            models.CheckConstraint(
                condition=Q(actual_dose__isnull=True) | Q(actual_dose__gte=0),
                name="dose_administration_dose_not_negative",
                violation_error_message=_("The dose given cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.planned_dose} {'given' if self.given else 'not given'}"

    @property
    def is_off_day(self) -> bool:
        """Given on another day than planned (recorded with its real date)."""
        return bool(self.given and self.administered_on != self.planned_dose.date)
