"""Forms recorded at a visit: one row per form per visit, with its computed values stored.

Scores and derived values are computed by the services from the entered values (never
typed in) and stored, so exports and plots read them without recomputing; the inputs are
stored too, so anyone can recompute them. Rows are never deleted: a correction is an
update with a reason, recorded by the audit triggers.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from patients.models import Participant, ScheduledVisit
from trials.access import site_scope
from trials.forms.codes import STEROID_DOSE, TREG_PANEL
from trials.models import Study


class ParticipantRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one access filter: records of participants at the user's studies and sites."""
        return self.filter(
            site_scope(user, study_field="participant__study", site_field="participant__site")
        )


class VisitRecord(models.Model):
    """What every form recorded at a visit carries: who entered it, when, its version."""

    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    #: Optimistic lock: bumped by every edit; a form loaded at an older version is refused.
    row_version = models.PositiveIntegerField(default=1)
    #: Soft checks (assessments.checks) the user confirmed for the values saved:
    #: [{"check": id, "item": code, "value": "..."}]. Audited with the record, so the trail
    #: says who confirmed which unusual value.
    confirmed_checks = models.JSONField(_("confirmed checks"), default=list, blank=True)

    objects = ParticipantRecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def get_study(self) -> Study:
        return self.participant.study

    #: The form code the record answers (TREG, STEROID; an instrument's is its instrument).
    FORM_CODE = ""

    @property
    def form_code(self) -> str:
        return self.FORM_CODE

    @property
    def is_blinded_result(self) -> bool:
        """Its values tell the allocation (the protocol's `blinded_results`): the record
        trail (audit.history) is then closed to blinded readers, like an allocation's."""
        return self.form_code in self.participant.protocol_version.blinded_results


@clinical_record()
class InstrumentResponse(VisitRecord):
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="instrument_responses"
    )
    scheduled_visit = models.ForeignKey(
        ScheduledVisit, on_delete=models.PROTECT, related_name="instrument_responses"
    )
    instrument = models.CharField(_("instrument"), max_length=20)

    answers = models.JSONField(_("answers"), default=dict)
    total = models.PositiveSmallIntegerField(_("total score"))
    band = models.CharField(_("severity band"), max_length=30, blank=True)
    #: Findings for the investigator now (e.g. PHQ-9 item 9 "self_harm"); every one raised
    #: is also kept as an `InstrumentAlert` row, even if a later correction removes it here.
    alerts = ArrayField(
        models.CharField(max_length=30), verbose_name=_("alerts"), default=list, blank=True
    )
    details = models.JSONField(_("details"), default=dict, blank=True)

    #: Computed from the answers on every save (audit trails mark them as derived).
    derived_fields = ("total", "band", "alerts", "details")

    class Meta:
        ordering = ["participant", "scheduled_visit__target_date", "instrument"]
        verbose_name = _("instrument response")
        constraints = [
            models.UniqueConstraint(
                fields=["scheduled_visit", "instrument"],
                name="instrument_response_one_per_instrument_per_visit",
                violation_error_message=_("This instrument is already recorded at this visit."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.scheduled_visit}"

    @property
    def form_code(self) -> str:
        return self.instrument

    def audit_items(self, field: str) -> dict[str, tuple[str, dict]] | None:
        """The instrument's items (code → label, choice labels), so the audit trail shows a
        corrected answer as "H3 – 3. Suicide: 1 → 2" rather than two JSON blobs."""
        from assessments import instruments

        if field != "answers":
            return None
        try:
            instrument = instruments.get(self.instrument)
        except instruments.UnknownInstrument:
            return {}
        return {item.code: (str(item.label), dict(item.choices or ())) for item in instrument.items}


@clinical_record()
class InstrumentAlert(models.Model):
    """An alert an instrument raised (e.g. PHQ-9 self-harm thoughts), kept for good.

    The reminders sweep notifies from these rows; a correction that removes the finding
    sets `cleared_at` rather than deleting the row, so no alert ever disappears unseen.
    """

    response = models.ForeignKey(
        InstrumentResponse, on_delete=models.PROTECT, related_name="alert_records"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="instrument_alerts"
    )
    code = models.CharField(_("alert"), max_length=30)
    raised_at = models.DateTimeField(_("raised at"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    objects = ParticipantRecordQuerySet.as_manager()

    class Meta:
        ordering = ["raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "code"],
                condition=Q(cleared_at__isnull=True),
                name="instrument_alert_one_standing_per_response_and_code",
            ),
        ]
        indexes = [
            # The reminders sweep: standing alerts, newest first.
            models.Index(
                fields=["raised_at"],
                condition=Q(cleared_at__isnull=True),
                name="instrument_alert_standing_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.response}"

    def get_study(self) -> Study:
        return self.participant.study


_PERCENT_RANGE = Q(treg_pct_of_cd4__gte=0, treg_pct_of_cd4__lte=100) & Q(
    tcon_pct_of_cd4__gte=0, tcon_pct_of_cd4__lte=100
)


@clinical_record()
class TregPanel(VisitRecord):
    """A dual-platform Treg flow panel (docs/INSTRUMENTS.md, "Treg panel")."""

    FORM_CODE = TREG_PANEL

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="treg_panels"
    )
    scheduled_visit = models.ForeignKey(
        ScheduledVisit, on_delete=models.PROTECT, related_name="treg_panels"
    )
    sample_date = models.DateField(_("sample date"))
    # Entered.
    lymphocytes_per_ul = models.DecimalField(_("lymphocytes /µL"), max_digits=8, decimal_places=1)
    cd4_per_ul = models.DecimalField(
        _("CD4+ /µL"), max_digits=8, decimal_places=1, null=True, blank=True
    )
    cd4_pct_of_lymphocytes = models.DecimalField(
        # xgettext:no-python-format (a literal percent sign, never formatted)
        _("CD4+ % of lymphocytes"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
    )
    treg_pct_of_cd4 = models.DecimalField(
        # xgettext:no-python-format (a literal percent sign, never formatted)
        _("Treg % of CD4+ (CD4+CD25hiCD127lo)"),
        max_digits=5,
        decimal_places=2,
    )
    tcon_pct_of_cd4 = models.DecimalField(
        # xgettext:no-python-format (a literal percent sign, never formatted)
        _("Tcon % of CD4+ (CD4+CD25-/lo CD127+)"),
        max_digits=5,
        decimal_places=2,
    )
    # Derived (assessments.derivations.derive_treg).
    derived_cd4_per_ul = models.DecimalField(_("CD4+ /µL used"), max_digits=9, decimal_places=1)
    treg_per_ul = models.DecimalField(_("Treg /µL"), max_digits=9, decimal_places=1)
    tcon_per_ul = models.DecimalField(_("Tcon /µL"), max_digits=9, decimal_places=1)
    treg_tcon_ratio = models.DecimalField(
        _("Treg/Tcon ratio"), max_digits=11, decimal_places=4, null=True, blank=True
    )
    treg_pct_change = models.DecimalField(
        # xgettext:no-python-format (a literal percent sign, never formatted)
        _("Treg % change from baseline (points)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
    )
    treg_pct_change_pct = models.DecimalField(
        # xgettext:no-python-format (a literal percent sign, never formatted)
        _("Treg % relative change from baseline (%)"),
        max_digits=12,
        decimal_places=1,
        null=True,
        blank=True,
    )
    treg_per_ul_change = models.DecimalField(
        _("Treg /µL change from baseline"), max_digits=10, decimal_places=1, null=True, blank=True
    )
    treg_per_ul_change_pct = models.DecimalField(
        _("Treg /µL change from baseline (%)"),
        max_digits=12,
        decimal_places=1,
        null=True,
        blank=True,
    )

    #: The fields a user types in (the others are derived from them).
    INPUTS = (
        "lymphocytes_per_ul",
        "cd4_per_ul",
        "cd4_pct_of_lymphocytes",
        "treg_pct_of_cd4",
        "tcon_pct_of_cd4",
    )
    #: What the derived values are computed from (with the baseline's record).
    DERIVED_FROM = INPUTS

    class Meta:
        ordering = ["participant", "sample_date"]
        verbose_name = _("Treg panel")
        constraints = [
            models.UniqueConstraint(
                fields=["scheduled_visit"],
                name="treg_panel_one_per_visit",
                violation_error_message=_("A Treg panel is already recorded at this visit."),
            ),
            models.CheckConstraint(
                condition=_PERCENT_RANGE
                & (
                    Q(cd4_pct_of_lymphocytes__isnull=True)
                    | Q(cd4_pct_of_lymphocytes__gte=0, cd4_pct_of_lymphocytes__lte=100)
                ),
                name="treg_panel_percentages_0_to_100",
                violation_error_message=_("A percentage must be between 0 and 100."),
            ),
            models.CheckConstraint(
                condition=Q(treg_pct_of_cd4__lte=100 - F("tcon_pct_of_cd4")),
                name="treg_panel_treg_plus_tcon_at_most_100",
                # Django %-formats constraint messages: a literal % is written %%.
                violation_error_message=_(
                    "Treg %% and Tcon %% of CD4+ cannot add up to more than 100."
                ),
            ),
            models.CheckConstraint(
                condition=Q(cd4_per_ul__isnull=False) | Q(cd4_pct_of_lymphocytes__isnull=False),
                name="treg_panel_has_cd4_count_or_percentage",
                violation_error_message=_("Enter CD4+ cells per µL or CD4+ %% of lymphocytes."),
            ),
        ]

    def __str__(self) -> str:
        return f"Treg {self.scheduled_visit}"


class SteroidDrug(models.TextChoices):
    # The keys of assessments.derivations.PREDNISONE_EQUIVALENT (a test keeps them in step).
    PREDNISONE = "prednisone", _("Prednisone")
    PREDNISOLONE = "prednisolone", _("Prednisolone")
    METHYLPREDNISOLONE = "methylprednisolone", _("Methylprednisolone")
    HYDROCORTISONE = "hydrocortisone", _("Hydrocortisone")
    DEXAMETHASONE = "dexamethasone", _("Dexamethasone")
    DEFLAZACORT = "deflazacort", _("Deflazacort")
    BETAMETHASONE = "betamethasone", _("Betamethasone")
    CORTISONE = "cortisone", _("Cortisone")


@clinical_record()
class SteroidDose(VisitRecord):
    """The daily glucocorticoid dose at a visit, as prednisone equivalent.

    The record names one drug; the glucocorticoids the participant's concomitant medication
    (CONMED) lists as taken on its date add to it (`assessments.glucocorticoids`), and the
    steroid-taper endpoint (mg/kg/day, change from baseline, sparing) reads that day's
    total, so a taper with two drugs is judged on both.
    """

    FORM_CODE = STEROID_DOSE

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="steroid_doses"
    )
    scheduled_visit = models.ForeignKey(
        ScheduledVisit, on_delete=models.PROTECT, related_name="steroid_doses"
    )
    date = models.DateField(_("date"))
    drug = models.CharField(_("drug"), max_length=30, choices=SteroidDrug.choices)
    mg_per_day = models.DecimalField(_("mg/day"), max_digits=7, decimal_places=2)
    weight_kg = models.DecimalField(
        _("body weight (kg)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    # Derived (assessments.derivations, assessments.glucocorticoids). The total adds up to
    # 30 CONMED rows of up to 100,000 mg three times a day: its columns are wide enough for
    # any total the forms accept (a saved CONMED must never fail on a steroid dose's column).
    prednisone_eq_mg = models.DecimalField(
        _("prednisone equivalent (mg/day)"), max_digits=9, decimal_places=2
    )
    other_glucocorticoids_eq_mg = models.DecimalField(
        _("concomitant glucocorticoids, prednisone equivalent (mg/day)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal(0),
    )
    total_prednisone_eq_mg = models.DecimalField(
        _("total prednisone equivalent (mg/day)"), max_digits=12, decimal_places=2
    )
    mg_per_kg_per_day = models.DecimalField(
        _("total prednisone equivalent (mg/kg/day)"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
    )
    baseline_prednisone_eq_mg = models.DecimalField(
        _("baseline total prednisone equivalent (mg/day)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
    )
    pct_change_from_baseline = models.DecimalField(
        _("change from baseline (%)"), max_digits=16, decimal_places=1, null=True, blank=True
    )
    # xgettext:no-python-format (a literal percent sign, never formatted)
    steroid_sparing = models.BooleanField(_("reduced by 25 % or more from baseline"), default=False)

    INPUTS = ("drug", "mg_per_day", "weight_kg")
    #: What the derived values are computed from (with the baseline's record): the inputs
    #: and the day, whose CONMED glucocorticoids count.
    DERIVED_FROM = ("date", *INPUTS)
    #: Computed on every save, and again when CONMED or the baseline record changes (audit
    #: trails mark them as derived).
    derived_fields = (
        "prednisone_eq_mg",
        "other_glucocorticoids_eq_mg",
        "total_prednisone_eq_mg",
        "mg_per_kg_per_day",
        "baseline_prednisone_eq_mg",
        "pct_change_from_baseline",
        "steroid_sparing",
    )

    class Meta:
        ordering = ["participant", "date"]
        verbose_name = _("steroid dose")
        constraints = [
            models.UniqueConstraint(
                fields=["scheduled_visit"],
                name="steroid_dose_one_per_visit",
                violation_error_message=_("A steroid dose is already recorded at this visit."),
            ),
            models.CheckConstraint(
                condition=Q(mg_per_day__gte=0),
                name="steroid_dose_not_negative",
                violation_error_message=_("A dose cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0),
                name="steroid_dose_weight_positive",
                violation_error_message=_("Body weight must be more than 0 kg."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug} {self.mg_per_day} mg/day {self.scheduled_visit}"


@clinical_record()
class FormRecord(VisitRecord):
    """A form the protocol file defines as data (trials.forms), entered at a visit.

    The record names the `FormDefinition` it was entered under: an amendment that changes
    the form gives it a new definition (a new content hash), and this record keeps the one
    its values were checked against until someone moves it explicitly.

    Values are stored flat by key: an item's code, or `GROUP.n.ITEM` for row n (from 1) of a
    repeating group, so the audit trail lists each item with its label and old → new value
    rather than a nested blob. Decimals are strings at the item's precision, dates ISO,
    yes/no and choice items their codes, multichoice a list of codes. A missing-data code is
    kept beside the value (`missing`), never in it. Calculated items are recomputed by the
    server on every save (`calculated`) and never typed.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="form_records"
    )
    scheduled_visit = models.ForeignKey(
        ScheduledVisit, on_delete=models.PROTECT, related_name="form_records"
    )
    form_code = models.CharField(_("form"), max_length=20)
    definition = models.ForeignKey(
        "trials.FormDefinition",
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("form version"),
    )
    values = models.JSONField(_("values"), default=dict, blank=True)
    #: {key: {"code": "ND" | "UNK" | "NA", "reason": text}} (SDTM --STAT / --REASND).
    missing = models.JSONField(_("missing values"), default=dict, blank=True)
    calculated = models.JSONField(_("calculated values"), default=dict, blank=True)

    derived_fields = ("calculated",)

    class Meta:
        ordering = ["participant", "scheduled_visit__target_date", "form_code"]
        verbose_name = _("form record")
        constraints = [
            models.UniqueConstraint(
                fields=["scheduled_visit", "form_code"],
                name="form_record_one_per_form_per_visit",
                violation_error_message=_("This form is already recorded at this visit."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_code} {self.scheduled_visit}"

    def audit_items(self, field: str):
        """Labels of the keys of `values`, `missing` and `calculated`: "BMI – Body-mass
        index", "CM.2.CMDOSE – Dose (row 2)", also for rows removed since."""
        if field not in ("values", "missing", "calculated"):
            return None
        return ItemLabels(self.definition.form)


class ItemLabels(dict):
    """key → (label, choices) of a form's items, rows of repeating groups included."""

    def __init__(self, form):
        super().__init__()
        self.form = form
        for item in form.items:
            self[item.code] = (str(item.label), {c: str(label) for c, label in item.codes})

    def get(self, key, default=None):
        if key in self:
            return self[key]
        parts = str(key).split(".")
        if len(parts) == 3 and parts[1].isdigit() and parts[2] in self:
            label, choices = self[parts[2]]
            return (f"{label} ({_('row')} {parts[1]})", choices)
        return default
