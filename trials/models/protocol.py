"""A study's protocol, versioned: arms, strata, eligibility, dosing, visits, reminders.

The protocol is data (docs/PROTOCOL-FILE.md): these rows are what a protocol file
imports into, and every schedule in the product is derived from them. A version is edited
while it is a draft; once active it is immutable, and an amendment is a new version.
The invariants that a row can check on its own are named database constraints; the
cross-row ones (phases do not overlap) use an exclusion constraint.
"""

import pgtrigger
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from audit.tracking import track
from trials.forms.spec import FormSpec, form_from_data

from .study import Role, Study


def frozen_once_active(table: str) -> pgtrigger.Trigger:
    """A trigger refusing any write to a version's rows unless the version is a draft.

    The model's save() refuses first with a friendly message; the trigger makes it a rule of
    the database, so that a bulk update or a raw query cannot alter an active protocol.
    """
    return pgtrigger.Trigger(
        name=f"{table}_frozen_once_active",
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        when=pgtrigger.Before,
        declare=[("_status", "text")],
        func=(
            "SELECT status INTO _status FROM trials_protocolversion "
            "WHERE id = COALESCE(NEW.version_id, OLD.version_id);\n"
            "IF _status IS DISTINCT FROM 'draft' THEN\n"
            "  RAISE EXCEPTION 'protocol version is % and cannot be changed', _status\n"
            "    USING ERRCODE = 'integrity_constraint_violation';\n"
            "END IF;\n"
            "RETURN COALESCE(NEW, OLD);"
        ),
    )


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class ProtocolVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ProtocolVersionQuerySet":
        return self.filter(study__in=Study.objects.visible_to(user))

    def active(self) -> "ProtocolVersionQuerySet":
        return self.filter(status=VersionStatus.ACTIVE)


@track()
class ProtocolVersion(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(_("version"), max_length=20)
    effective_date = models.DateField(_("effective date"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    drug = models.CharField(_("study drug"), max_length=200, blank=True)
    #: A whole screening number must match it (the protocol file's key of the same name).
    screening_number_pattern = models.CharField(
        _("screening number pattern"), max_length=200, default=r"[A-Za-z0-9_-]+"
    )
    #: The amounts a dose may be reduced to, level 1 first (the file's `dosing.dose_levels`).
    dose_levels = ArrayField(
        models.DecimalField(max_digits=8, decimal_places=3),
        verbose_name=_("dose levels"),
        default=list,
        blank=True,
    )
    #: Form codes whose values unblind (the file's `version.blinded_results`).
    blinded_results = ArrayField(
        models.CharField(max_length=40),
        verbose_name=_("blinded results"),
        default=list,
        blank=True,
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProtocolVersionQuerySet.as_manager()

    class Meta:
        ordering = ["study", "effective_date", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "label"], name="protocol_version_label_unique_per_study"
            ),
            # New enrolments go to exactly one version: the active one.
            models.UniqueConstraint(
                fields=["study"],
                condition=Q(status="active"),
                name="protocol_one_active_version_per_study",
            ),
        ]
        triggers = [
            # Once active, only the status may move on (active → retired).
            pgtrigger.Protect(
                name="protocol_version_frozen_once_active",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__status__in=["active", "retired"])
                & (
                    pgtrigger.Q(old__label__df=pgtrigger.F("new__label"))
                    | pgtrigger.Q(old__effective_date__df=pgtrigger.F("new__effective_date"))
                    | pgtrigger.Q(old__drug__df=pgtrigger.F("new__drug"))
                    | pgtrigger.Q(old__dose_levels__df=pgtrigger.F("new__dose_levels"))
                    | pgtrigger.Q(old__blinded_results__df=pgtrigger.F("new__blinded_results"))
                    | pgtrigger.Q(old__study_id__df=pgtrigger.F("new__study_id"))
                    | pgtrigger.Q(new__status="draft")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.code} v{self.label} ({self.get_status_display()})"

    def get_study(self) -> Study:
        return self.study

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class VersionPart(models.Model):
    """A row belonging to one protocol version; frozen once the version is active."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._check_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_editable()
        return super().delete(*args, **kwargs)

    def get_study(self) -> Study:
        return self.version.study

    def _check_editable(self) -> None:
        if not self.version_id:
            return
        version = ProtocolVersion.objects.get(pk=self.version_id)
        if not version.is_editable:
            raise ValidationError(
                _(
                    "Protocol version %(label)s is %(status)s and can no longer be changed; "
                    "create an amendment (a new version) instead."
                )
                % {"label": version.label, "status": version.get_status_display()}
            )


class PartQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PartQuerySet":
        return self.filter(version__study__in=Study.objects.visible_to(user))


@track()
class Arm(VersionPart):
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="arms")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    ratio = models.PositiveSmallIntegerField(_("allocation ratio weight"), default=1)
    is_placebo = models.BooleanField(_("placebo"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    objects = PartQuerySet.as_manager()

    #: Its trail (names, placebo flag) is closed to blinded users (`audit.history`).
    allocation_trail = True

    class Meta:
        ordering = ["version", "order", "code"]
        triggers = [frozen_once_active("arm")]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="arm_code_unique_per_version"),
            models.CheckConstraint(condition=Q(ratio__gte=1), name="arm_ratio_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


@track()
class Stratum(VersionPart):
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="strata")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    objects = PartQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order", "code"]
        triggers = [frozen_once_active("stratum")]
        verbose_name_plural = _("strata")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="stratum_code_unique_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class CriterionKind(models.TextChoices):
    INCLUSION = "inclusion", _("Inclusion")
    EXCLUSION = "exclusion", _("Exclusion")


class AnswerType(models.TextChoices):
    BOOLEAN = "boolean", _("Yes / no")
    NUMBER = "number", _("Number")
    #: A number the participant's year of birth already answers (patients.eligibility).
    AGE = "age", _("Age in years, from the year of birth")


@track()
class EligibilityCriterion(VersionPart):
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="criteria")
    code = models.CharField(_("id"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=CriterionKind.choices)
    text = models.TextField(_("text"))
    answer_type = models.CharField(
        _("answer type"), max_length=10, choices=AnswerType.choices, default=AnswerType.BOOLEAN
    )
    min_value = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    max_value = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    objects = PartQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order"]
        triggers = [frozen_once_active("criterion")]
        verbose_name_plural = _("eligibility criteria")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="criterion_code_unique_per_version"
            ),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=F("max_value")),
                name="criterion_min_not_above_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"


class DoseBasis(models.TextChoices):
    """What a phase's dose is per: one administration, or per kg / m² of the participant."""

    FLAT = "", _("per administration")
    KG = "kg", _("per kg of body weight")
    M2 = "m2", _("per m² of body-surface area")


class Resize(models.TextChoices):
    """When a phase's doses by body size are sized: from the baseline's weight and height
    only, or each cycle from the weight and height at the cycle's first visit."""

    ONCE = "", _("from the baseline")
    EACH_CYCLE = "each_cycle", _("at each cycle")


@track()
class DosingPhase(VersionPart):
    """Weeks `start_week`..`end_week` of dosing; week w is study days 7(w-1)+1 .. 7w.

    The fields mirror `trials.protocol_file.PhaseSpec` (the file's keys; `trials.dosing`
    reads the pattern): exactly one of `days_per_week`, `days`, `weekdays`, `every_days`,
    `every_weeks`, optionally repeated in cycles. A phase without an arm is every arm's.
    """

    version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="dosing_phases"
    )
    arm = models.ForeignKey(
        Arm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dosing_phases",
        help_text=_("Blank: the phase is every arm's."),
    )
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("name"), max_length=60)
    start_week = models.PositiveSmallIntegerField(_("first week"))
    end_week = models.PositiveSmallIntegerField(_("last week"))
    dose = models.DecimalField(_("dose"), max_digits=8, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20, default="MIU")
    route = models.CharField(_("route"), max_length=20, default="SC")
    per = models.CharField(
        _("dose per"), max_length=2, choices=DoseBasis.choices, default=DoseBasis.FLAT, blank=True
    )
    round_to = models.DecimalField(
        _("deliverable increment"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    days_per_week = models.PositiveSmallIntegerField(_("days per week"), null=True, blank=True)
    days = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("days of the week"),
        null=True,
        blank=True,
    )
    weekdays = ArrayField(
        models.CharField(max_length=3),
        verbose_name=_("calendar weekdays"),
        null=True,
        blank=True,
    )
    every_days = models.PositiveSmallIntegerField(_("every N days"), null=True, blank=True)
    every_weeks = models.PositiveSmallIntegerField(_("every N weeks"), null=True, blank=True)
    cycle_count = models.PositiveSmallIntegerField(_("cycles"), null=True, blank=True)
    cycle_dosing_weeks = models.PositiveSmallIntegerField(
        _("dosing weeks per cycle"), null=True, blank=True
    )
    cycle_rest_weeks = models.PositiveSmallIntegerField(
        _("rest weeks per cycle"), null=True, blank=True
    )
    resize = models.CharField(
        _("dose by body size re-sized"),
        max_length=12,
        choices=Resize.choices,
        default=Resize.ONCE,
        blank=True,
    )

    objects = PartQuerySet.as_manager()

    class Meta:
        ordering = ["version", "start_week"]
        triggers = [frozen_once_active("phase")]
        constraints = [
            # Two arms may each have an "induction"; a phase of every arm has its own name.
            models.UniqueConstraint(
                fields=["version", "arm", "name"],
                nulls_distinct=False,
                name="phase_name_unique_per_version_and_arm",
            ),
            models.CheckConstraint(
                condition=Q(start_week__gte=1) & Q(end_week__gte=F("start_week")),
                name="phase_weeks_in_order",
            ),
            models.CheckConstraint(
                condition=Exact(
                    Func(
                        F("days_per_week"),
                        F("days"),
                        F("weekdays"),
                        F("every_days"),
                        F("every_weeks"),
                        function="num_nonnulls",
                        output_field=models.IntegerField(),
                    ),
                    1,
                )
                & (Q(days_per_week__isnull=True) | Q(days_per_week__gte=1, days_per_week__lte=7))
                & (Q(every_days__isnull=True) | Q(every_days__gte=1))
                & (Q(every_weeks__isnull=True) | Q(every_weeks__gte=1)),
                name="phase_one_dosing_pattern",
            ),
            models.CheckConstraint(
                condition=Q(cycle_count__isnull=True, cycle_dosing_weeks__isnull=True)
                & Q(cycle_rest_weeks__isnull=True)
                | Q(cycle_count__gte=1, cycle_dosing_weeks__gte=1, cycle_rest_weeks__gte=1),
                name="phase_cycle_all_or_nothing",
            ),
            models.CheckConstraint(
                condition=Q(per="", round_to__isnull=True) | (~Q(per="") & Q(round_to__gt=0)),
                name="phase_body_size_dose_has_increment",
            ),
            # Re-sizing each cycle needs a dose by body size and cycles (as in the file).
            models.CheckConstraint(
                condition=Q(resize="") | (~Q(per="") & Q(cycle_count__isnull=False)),
                name="phase_resize_needs_body_size_and_cycles",
            ),
            # 0 is a placebo arm's dose (the protocol file allows it only there).
            models.CheckConstraint(condition=Q(dose__gte=0), name="phase_dose_not_negative"),
            # Phases a participant follows never share a week. Phases of every arm (no arm)
            # are compared with each other here; against an arm's phases, the protocol file's
            # reading refuses the overlap (an exclusion constraint cannot say "or NULL").
            ExclusionConstraint(
                name="phases_do_not_overlap",
                expressions=[
                    ("version", RangeOperators.EQUAL),
                    (Coalesce(F("arm"), models.Value(0)), RangeOperators.EQUAL),
                    (
                        Func(
                            F("start_week"), F("end_week"), models.Value("[]"), function="int4range"
                        ),
                        RangeOperators.OVERLAPS,
                    ),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (weeks {self.start_week}-{self.end_week})"


@track()
class VisitDefinition(VersionPart):
    """A scheduled visit: target study day and its window (`window_minus` <= 0 <= `window_plus`)."""

    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="visits")
    order = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    study_day = models.SmallIntegerField(_("study day"))
    window_minus = models.SmallIntegerField(_("window: days before"), default=0)
    window_plus = models.SmallIntegerField(_("window: days after"), default=0)
    forms = ArrayField(models.CharField(max_length=20), verbose_name=_("forms"), default=list)
    is_screening = models.BooleanField(
        _("screening visit"),
        default=False,
        help_text=_("Screening visits, and only they, come before study day 1."),
    )
    #: The dosing cycle the protocol file scheduled the visit in (`cycle: K, day: D`), kept
    #: so the export writes the visit back as written; `study_day` is already resolved.
    cycle = models.PositiveSmallIntegerField(
        _("cycle"),
        null=True,
        blank=True,
        help_text=_("Set when the protocol file gives the visit's day within a dosing cycle."),
    )

    objects = PartQuerySet.as_manager()

    class Meta:
        ordering = ["version", "study_day", "order"]
        triggers = [frozen_once_active("visit")]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="visit_code_unique_per_version"
            ),
            models.CheckConstraint(
                condition=Q(window_minus__lte=0) & Q(window_plus__gte=0),
                name="visit_window_contains_its_day",
            ),
            # CDISC study days run ..., -2, -1, 1, 2, ...: there is no day 0.
            models.CheckConstraint(condition=~Q(study_day=0), name="visit_study_day_not_zero"),
            # The same rules as the protocol file, for drafts edited in the admin.
            models.CheckConstraint(
                condition=Q(is_screening=True, study_day__lt=0)
                | Q(is_screening=False, study_day__gt=0),
                name="visit_only_screening_before_day_one",
            ),
            models.UniqueConstraint(
                fields=["version", "study_day"], name="visit_day_unique_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} (day {self.study_day})"


@track()
class FormDefinition(VersionPart):
    """A form the protocol file defines as data (`trials.forms.spec.FormSpec`).

    `spec` holds the form as the file writes it (`form_to_data`); `content_hash` is its
    version identity, so a form an amendment leaves unchanged keeps its hash from version to
    version and a record can always name the exact form it was entered under.
    """

    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="forms")
    order = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(_("code"), max_length=20)
    name = models.JSONField(_("name"), help_text=_("A text or a {language: text} map."))
    spec = models.JSONField(_("definition"))
    content_hash = models.CharField(_("content hash"), max_length=64)

    objects = PartQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order"]
        triggers = [frozen_once_active("form")]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="form_code_unique_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.content_hash[:12]})"

    @property
    def form(self) -> FormSpec:
        """The stored definition as a `FormSpec`."""
        return form_from_data(self.spec)


class ReminderEvent(models.TextChoices):
    VISIT_WINDOW_OPENS = "visit_window_opens", _("Visit window opens")
    VISIT_OVERDUE = "visit_overdue", _("Visit overdue")
    DOSE_DUE = "dose_due", _("Dose due")
    SAE_REPORT_DUE = "sae_report_due", _("SAE report due")
    AE_UNREVIEWED = "ae_unreviewed", _("Adverse event not reviewed")
    #: Every instrument's suicidality item (PHQ-9 item 9, HAM-D 17 item 3): the value keeps
    #: the event's first name, which protocol files and stored rows use.
    PHQ9_SELF_HARM = "phq9_self_harm", _("Self-harm or suicidality alert")


@track()
class ReminderRule(VersionPart):
    version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="reminder_rules"
    )
    order = models.PositiveSmallIntegerField(default=0)
    event = models.CharField(_("event"), max_length=30, choices=ReminderEvent.choices)
    before_days = models.PositiveSmallIntegerField(null=True, blank=True)
    after_days = models.PositiveSmallIntegerField(null=True, blank=True)
    before_hours = models.PositiveSmallIntegerField(null=True, blank=True)
    notify = ArrayField(
        models.CharField(max_length=20, choices=Role.choices), verbose_name=_("notify roles")
    )

    objects = PartQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order"]
        triggers = [frozen_once_active("reminder")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {', '.join(self.notify)}"
