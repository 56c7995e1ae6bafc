"""Each participant's visits and doses, generated from their protocol version.

Rows are never deleted: an amendment marks the future rows it replaces `superseded` and a
withdrawal marks them `cancelled`, so the record of what was planned when stays complete.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from trials.access import site_scope
from trials.dosing import derivation_text
from trials.models import DoseBasis, ProtocolVersion, Study, VisitDefinition

from .dose_modification import DoseModification
from .participant import Participant


class VisitStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")
    SUPERSEDED = "superseded", _("Superseded by an amendment")


#: Rows that still describe the participant's schedule (the others are kept as history).
LIVE_VISIT = Q(status__in=[VisitStatus.UPCOMING, VisitStatus.DONE, VisitStatus.MISSED])


class ScheduledVisitQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ScheduledVisitQuerySet":
        return self.filter(
            site_scope(user, study_field="participant__study", site_field="participant__site")
        )

    def live(self) -> "ScheduledVisitQuerySet":
        return self.filter(LIVE_VISIT)

    def due_between(self, start, end) -> "ScheduledVisitQuerySet":
        """Upcoming visits whose window overlaps [start, end] (indexed: status, window)."""
        return self.filter(
            status=VisitStatus.UPCOMING, window_start__lte=end, window_end__gte=start
        )


# `forms_complete` is kept out of the trail: it is derived from the visit's records (each of
# which has its own trail), and marking it must not read as a change to the visit.
@clinical_record(exclude=["forms_complete"])
class ScheduledVisit(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="visits")
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="+"
    )
    definition = models.ForeignKey(
        VisitDefinition, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    code = models.CharField(_("visit"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    study_day = models.SmallIntegerField(_("study day"), null=True, blank=True)
    target_date = models.DateField(_("target date"))
    window_start = models.DateField(_("window opens"))
    window_end = models.DateField(_("window closes"))
    status = models.CharField(
        _("status"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.UPCOMING
    )
    actual_date = models.DateField(_("visit date"), null=True, blank=True)
    is_unscheduled = models.BooleanField(default=False)
    status_reason = models.TextField(_("reason"), blank=True)
    row_version = models.PositiveIntegerField(default=1)
    #: Every form the visit's definition requires has a record: set by the capture of its
    #: last one (`assessments.completeness`). Records are never deleted and a definition
    #: never changes once in use, so a complete visit stays complete; a visit not marked
    #: (its records written by another path) is judged by its records, as before.
    forms_complete = models.BooleanField(default=False, editable=False)

    objects = ScheduledVisitQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "target_date", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start__lte=F("target_date"))
                & Q(window_end__gte=F("target_date")),
                name="scheduled_visit_window_contains_target",
            ),
            models.UniqueConstraint(
                fields=["participant", "code"],
                condition=LIVE_VISIT,
                name="scheduled_visit_one_live_row_per_code",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(actual_date__isnull=False),
                name="scheduled_visit_done_has_a_date",
            ),
        ]
        indexes = [
            # The reminder sweep: upcoming visits whose window opens or closes near today.
            models.Index(
                fields=["window_start", "window_end"],
                condition=Q(status="upcoming"),
                name="visit_upcoming_window_idx",
            ),
            # The missing-forms work list reads only the done visits not known complete: its
            # cost follows the visits still waiting for forms, not each site's history.
            models.Index(
                fields=["participant"],
                condition=Q(status="done", forms_complete=False),
                name="visit_done_incomplete_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.code}"

    def get_study(self) -> Study:
        return self.participant.study

    @property
    def is_out_of_window(self) -> bool:
        """A protocol deviation: the visit happened outside its window."""
        return bool(
            self.actual_date and not (self.window_start <= self.actual_date <= self.window_end)
        )


class DoseStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    #: Not to be given: an investigator's hold (`modification`) covers its day.
    HELD = "held", _("Held")
    GIVEN = "given", _("Given")
    NOT_GIVEN = "not_given", _("Not given")
    CANCELLED = "cancelled", _("Cancelled")
    SUPERSEDED = "superseded", _("Superseded by an amendment")


#: A held dose stays on the schedule (a resume gives it back), so it is live.
LIVE_DOSE = Q(
    status__in=[DoseStatus.PLANNED, DoseStatus.HELD, DoseStatus.GIVEN, DoseStatus.NOT_GIVEN]
)


class PlannedDoseQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PlannedDoseQuerySet":
        return self.filter(
            site_scope(user, study_field="participant__study", site_field="participant__site")
        )

    def live(self) -> "PlannedDoseQuerySet":
        return self.filter(LIVE_DOSE)

    def in_log(self) -> "PlannedDoseQuerySet":
        """The live doses and those an investigator's stop cancelled, which the dose log
        keeps in view (a withdrawal's or an amendment's are history only)."""
        return self.filter(LIVE_DOSE | Q(status=DoseStatus.CANCELLED, modification__kind="stop"))

    def due_on(self, day) -> "PlannedDoseQuerySet":
        return self.filter(status=DoseStatus.PLANNED, date=day)


@clinical_record()
class PlannedDose(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="doses")
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="+"
    )
    phase = models.CharField(_("phase"), max_length=60)
    date = models.DateField(_("planned date"))
    study_day = models.SmallIntegerField(_("study day"))
    #: The planned amount. For a dose by body size it stays empty until the participant's
    #: weight (and height, per m²) set it (`patients.services.apply_body_size`).
    dose = models.DecimalField(_("dose"), max_digits=8, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20)
    route = models.CharField(_("route"), max_length=20)
    # How a dose by body size was derived: the protocol's dose per kg or m² and deliverable
    # increment (copied from the phase), and the measurements and body size it was applied to.
    dose_per = models.CharField(
        _("dose per"), max_length=2, choices=DoseBasis.choices, default=DoseBasis.FLAT, blank=True
    )
    dose_per_size = models.DecimalField(
        _("dose per kg or m²"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    dose_round_to = models.DecimalField(
        _("deliverable increment"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    body_weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    body_height_cm = models.DecimalField(
        _("height (cm)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    body_size = models.DecimalField(
        _("body size (kg or m²)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DoseStatus.choices, default=DoseStatus.PLANNED
    )
    #: The last investigator's decision that changed this dose (held, reduced, stopped or
    #: resumed), which the dose log names; empty for a dose as the protocol planned it.
    modification = models.ForeignKey(
        DoseModification,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="planned_doses",
    )
    #: The planned amount before a reduction ("reduced from"), kept to restore nothing by
    #: guesswork; empty while the dose is at its protocol amount.
    unmodified_dose = models.DecimalField(
        _("dose before reduction"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    row_version = models.PositiveIntegerField(default=1)

    objects = PlannedDoseQuerySet.as_manager()

    #: A reduced amount can tell the arm when arms differ in amount: left out of the trail
    #: for every blinded reader.
    blinded_fields = ("dose", "unmodified_dose")
    #: Also left out for a blinded reader where the amount would tell the arm
    #: (`trials.access.dose_amount_hidden`).
    amount_fields = ("dose", "dose_per_size")

    class Meta:
        ordering = ["participant", "date"]
        constraints = [
            # A flat dose always has its amount; a dose by body size has its basis and, once
            # it has an amount, the body size the amount was derived from.
            models.CheckConstraint(
                condition=Q(dose_per="", dose__isnull=False, dose_per_size__isnull=True)
                | (
                    ~Q(dose_per="")
                    & Q(dose_per_size__isnull=False, dose_round_to__gt=0)
                    & (Q(dose__isnull=True) | Q(body_size__isnull=False))
                ),
                name="planned_dose_amount_or_its_derivation",
            ),
            models.UniqueConstraint(
                fields=["participant", "date", "phase"],
                condition=LIVE_DOSE,
                name="planned_dose_one_live_row_per_day_and_phase",
            ),
        ]
        indexes = [
            models.Index(
                fields=["date"], condition=Q(status="planned"), name="dose_planned_date_idx"
            ),
        ]

    def __str__(self) -> str:
        # No amount: other records' trails name a planned dose by this text, and the amount
        # may tell a blinded reader the arm.
        return f"{self.participant} {self.date} ({self.phase})"

    def get_study(self) -> Study:
        return self.participant.study

    @property
    def derivation(self) -> str:
        """How a dose by body size was derived ("1 MIU/m² × 1.73 m² = 1.7 MIU"); "" else."""
        if not self.dose_per or self.dose is None:
            return ""
        return derivation_text(
            dose_per_size=self.dose_per_size,
            per=self.dose_per,
            size=self.body_size,
            dose=self.dose,
            unit=self.unit,
            round_to=self.dose_round_to,
        )
