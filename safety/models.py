"""Adverse events: CTCAE grade, ICH E2A seriousness, WHO-UMC causality, expedited clocks.

Coded values use the SDTM controlled terms as stored values (AEOUT, AEACN) so that exports
write them as they are. Rules a row can check alone are named database constraints; the
same rules give field messages in `clean()` (a constraint alone could only say "invalid").
Deadlines are derived (`safety.clocks`) but stored, recomputed on every save, so that the
reminder sweep reads open deadlines through partial indexes instead of scanning every AE.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Case, Count, Exists, F, OrderBy, OuterRef, Q, Subquery, When
from django.db.models.functions import Cast, Least
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from core.choices import ChoiceLabels
from patients.models import Participant, ScheduledVisit
from signatures.models import Meaning, Signature
from signatures.services import fingerprint, standing_signature
from trials.access import site_scope
from trials.models import Study

from . import clocks
from .terms import (  # noqa: F401 (re-exported: the models' vocabulary)
    CLINICAL_FIELDS,
    DEADLINE_FIELDS,
    ENDED_OUTCOMES,
    ONGOING_OUTCOMES,
    SERIOUSNESS_FIELDS,
    ActionTaken,
    DeadlineKind,
    Expectedness,
    Grade,
    Outcome,
    Relationship,
    Seriousness,
)

#: Tolerance for "not in the future" on awareness: a browser clock a little ahead.
CLOCK_SKEW = timedelta(minutes=5)

MESSAGES = {
    "end_before_onset": _("The end date cannot be before the onset date."),
    "end_or_ongoing": _("Give the end date, or tick “ongoing” if the event has not ended."),
    "ongoing_with_end": _("An ongoing event has no end date: clear one of them."),
    "grade5_not_fatal": _("A grade 5 event is a death: the outcome must be FATAL."),
    "grade5_no_death_date": _("A grade 5 event needs the date of death."),
    "fatal_not_death": _("A fatal outcome makes the event serious with the criterion “death”."),
    "fatal_no_death_date": _("A fatal outcome needs the date of death."),
    "death_date_not_fatal": _("Only an event with the outcome FATAL has a date of death."),
    "death_before_onset": _("The date of death cannot be before the onset date."),
    "serious_no_criterion": _("Tick at least one seriousness criterion for a serious event."),
    "criterion_not_serious": _("An event meeting a seriousness criterion is serious."),
    "outcome_ongoing": _("This outcome means the event is still going on: tick “ongoing”."),
    "outcome_ended": _("This outcome means the event has ended: give the end date."),
    "awareness_before_onset": _("Awareness cannot be before the onset of the event."),
    "sponsor_before_investigator": _(
        "The sponsor cannot have learnt of the event before the investigator."
    ),
    "in_future": _("This cannot be in the future."),
    "visit_other_participant": _("This visit belongs to another participant."),
    "voided_without_reason": _("A voided adverse event needs the reason it was voided."),
}


def _any_criterion() -> Q:
    any_ticked = Q()
    for name in SERIOUSNESS_FIELDS.values():
        any_ticked |= Q(**{name: True})
    return any_ticked


def next_deadline() -> Least:
    """The earliest report still owed. A reported deadline no longer presses, so only the
    due times without a report time count; PostgreSQL's LEAST skips the NULLs of the
    deadlines that do not apply. One definition for the queue's annotation and the index
    that serves its order (ae_review_queue_order_idx): the planner matches them only when
    the expressions are the same."""
    return Least(
        *(
            Case(When(**{f"{reported}__isnull": True}, then=F(due)))
            for due, reported in DEADLINE_FIELDS.values()
        ),
        output_field=models.DateTimeField(),
    )


class AdverseEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> "AdverseEventQuerySet":
        """The one access filter: the studies and sites of the user's memberships."""
        return self.filter(
            site_scope(user, study_field="participant__study", site_field="participant__site")
        )

    def live(self) -> "AdverseEventQuerySet":
        return self.filter(voided_at__isnull=True)

    def for_study(self, study: Study) -> "AdverseEventQuerySet":
        return self.filter(participant__study=study)

    def awaiting_review(self) -> "AdverseEventQuerySet":
        """Events put in the queue by a service and not signed since (`awaiting_review_since`,
        indexed): the reminder sweep's cheap view. The queue itself is `unreviewed()`."""
        return self.live().filter(awaiting_review_since__isnull=False)

    def with_next_deadline(self) -> "AdverseEventQuerySet":
        """Annotate `next_deadline`: the earliest report still owed (None when none is)."""
        return self.annotate(next_deadline=next_deadline())

    def review_queue_order(self) -> "AdverseEventQuerySet":
        """The nearest report deadline first (a SUSAR due tomorrow before a week-old rash),
        then the most severe, then the oldest event; events owing no report come last."""
        return self.with_next_deadline().order_by(
            F("next_deadline").asc(nulls_last=True), "-grade", "onset_date", "awareness_at", "pk"
        )

    # "Reviewed" is derived from the signature, never from a stored flag: a row changed
    # behind the services' back (raw SQL) keeps any flag but no longer matches its signature.

    def _standing_reviews(self):
        """The valid "reviewed" signatures of adverse events (at most one per event)."""
        return Signature.objects.valid().filter(
            content_type=ContentType.objects.get_for_model(self.model), meaning=Meaning.REVIEWED
        )

    def _valid_review_signature(self) -> Exists:
        return Exists(
            self._standing_reviews().filter(object_id=Cast(OuterRef("pk"), models.CharField()))
        )

    def _stale_review_pks(self) -> list[int]:
        """Events whose standing "reviewed" signature no longer matches them, in one query.

        The fingerprint is a hash of Python's rendering of the signed values, so it is
        compared here rather than reproduced in SQL, and only for the events that may have
        changed: those whose audit trail has an event after the one the signature marked
        (every change, raw SQL included, writes one by trigger), or whose signature marks
        none. The others are as they were signed.

        The search starts from the signatures rather than from every event in scope (three
        signature look-ups per event of the study on every view of the queue): each valid
        "reviewed" signature costs one probe of the trail's (pgh_obj, pgh_id) index
        (ae_event_trail_idx), and only the signatures that may no longer hold are joined to
        the events in scope (`self`). Usually there are none, and the database then hardly
        reads the scope. An adverse event's signature holds its integer key as text
        (`sign`), so the cast back to the key is safe.
        """
        trail = self.model.pgh_event_models["update"].objects.filter(
            pgh_obj_id=Cast(OuterRef("object_id"), models.BigIntegerField()),
            pgh_id__gt=OuterRef("record_event_id"),
        )
        may_have_changed = (
            self._standing_reviews()
            .filter(Q(record_event_id__isnull=True) | Exists(trail))
            .values(signed_pk=Cast("object_id", models.BigIntegerField()))
        )
        signed_fingerprint = (
            self._standing_reviews()
            .filter(object_id=Cast(OuterRef("pk"), models.CharField()))
            .order_by()
            .values("fingerprint")[:1]
        )
        signed = (
            self.select_related(None)
            .order_by()
            .only("participant", *CLINICAL_FIELDS)
            .filter(pk__in=may_have_changed)
            .annotate(signed_fingerprint=Subquery(signed_fingerprint))
        )
        return [ae.pk for ae in signed if fingerprint(ae) != ae.signed_fingerprint]

    def reviewed(self) -> "AdverseEventQuerySet":
        """Events with a "reviewed" signature that still matches what was signed."""
        return self.filter(self._valid_review_signature()).exclude(pk__in=self._stale_review_pks())

    def unreviewed(self) -> "AdverseEventQuerySet":
        """Events with no "reviewed" signature, or one the event no longer matches."""
        return self.filter(~self._valid_review_signature() | Q(pk__in=self._stale_review_pks()))

    def matching(
        self, *, site=None, grade=None, serious=None, relationship=None, reviewed=None
    ) -> "AdverseEventQuerySet":
        """The filters of the listing, the review queue and the API (None: any)."""
        qs = self
        if site:
            qs = qs.filter(participant__site__code=site)
        if grade:
            qs = qs.filter(grade=grade)
        if serious is not None:
            qs = qs.filter(serious=serious)
        if relationship:
            qs = qs.filter(relationship=relationship)
        if reviewed is not None:
            qs = qs.reviewed() if reviewed else qs.unreviewed()
        return qs

    def counts(self) -> dict:
        """Counts by grade, seriousness and relationship, in one query."""
        count = {"n_total": Count("pk")}  # aliases must not shadow field names
        for grade in Grade:
            count[f"n_grade_{grade.value}"] = Count("pk", filter=Q(grade=grade))
        count["n_serious"] = Count("pk", filter=Q(serious=True))
        count["n_non_serious"] = Count("pk", filter=Q(serious=False))
        for relationship in Relationship:
            count[f"n_rel_{relationship.value}"] = Count("pk", filter=Q(relationship=relationship))
        row = self.order_by().aggregate(**count)
        return {
            "total": row["n_total"],
            "by_grade": {grade.value: row[f"n_grade_{grade.value}"] for grade in Grade},
            "by_seriousness": {"serious": row["n_serious"], "non_serious": row["n_non_serious"]},
            "by_relationship": {r.value: row[f"n_rel_{r.value}"] for r in Relationship},
        }

    def awaiting_review_since_before(self, moment: datetime) -> "AdverseEventQuerySet":
        """Unreviewed for longer than a reminder rule allows (ae_awaiting_review_idx)."""
        return self.awaiting_review().filter(awaiting_review_since__lt=moment)

    def open_deadline(self, kind: str) -> "AdverseEventQuerySet":
        """Deadlines of `kind` that apply and have no report recorded yet."""
        due, reported = DEADLINE_FIELDS[DeadlineKind(kind)]
        return self.live().filter(**{f"{due}__isnull": False, f"{reported}__isnull": True})

    def deadline_between(self, kind: str, start: datetime, end: datetime):
        """Open deadlines of `kind` falling in [start, end] (served by a partial index)."""
        due, _reported = DEADLINE_FIELDS[DeadlineKind(kind)]
        return self.open_deadline(kind).filter(**{f"{due}__gte": start, f"{due}__lte": end})


# The trail's (pgh_obj, pgh_id) index answers "has this event changed since the trail event
# its review signature marked?" with one index-only probe however long the trail, for
# `_stale_review_pks` on every view of the review queue (and `latest_event_id` at signing).
@clinical_record(
    meta={
        "indexes": [models.Index(fields=["pgh_obj", "pgh_id"], name="ae_event_trail_idx")],
    }
)
class AdverseEvent(ChoiceLabels, models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="adverse_events"
    )
    visit = models.ForeignKey(
        ScheduledVisit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
        verbose_name=_("linked visit"),
    )
    term = models.CharField(_("reported term"), max_length=200)  # AETERM
    meddra_code = models.CharField(
        _("MedDRA code"),
        max_length=8,
        blank=True,
        validators=[RegexValidator(r"^\d{8}$", _("A MedDRA code has 8 digits."))],
        help_text=_("Optional: the MedDRA dictionary is licensed and not shipped."),
    )
    meddra_term = models.CharField(_("MedDRA preferred term"), max_length=200, blank=True)
    onset_date = models.DateField(_("onset date"))  # AESTDTC
    end_date = models.DateField(_("end date"), null=True, blank=True)  # AEENDTC
    ongoing = models.BooleanField(_("ongoing"), default=False)
    grade = models.PositiveSmallIntegerField(_("CTCAE grade"), choices=Grade.choices)
    serious = models.BooleanField(_("serious"), default=False)  # AESER
    results_in_death = models.BooleanField(_("results in death"), default=False)
    life_threatening = models.BooleanField(_("life-threatening"), default=False)
    hospitalisation = models.BooleanField(_("requires or prolongs hospitalisation"), default=False)
    disability = models.BooleanField(
        _("persistent or significant disability / incapacity"), default=False
    )
    congenital_anomaly = models.BooleanField(_("congenital anomaly / birth defect"), default=False)
    medically_important = models.BooleanField(_("other important medical event"), default=False)
    relationship = models.CharField(
        _("relationship to study drug"), max_length=20, choices=Relationship.choices
    )
    expectedness = models.CharField(_("expectedness"), max_length=20, choices=Expectedness.choices)
    action_taken = models.CharField(
        _("action taken with study drug"), max_length=30, choices=ActionTaken.choices
    )
    outcome = models.CharField(_("outcome"), max_length=40, choices=Outcome.choices)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    awareness_at = models.DateTimeField(
        _("investigator aware at"),
        help_text=_("When site staff first learnt of the event, in the site's time zone."),
    )
    #: Day 0 of the regulator clock (ICH E2A); empty means the investigator's awareness, as
    #: in an investigator-sponsored study. Recorded with the report times, not signed.
    sponsor_awareness_at = models.DateTimeField(
        _("sponsor aware at"),
        null=True,
        blank=True,
        help_text=_(
            "When the sponsor first learnt of the event. Leave empty when it is the "
            "investigator's awareness (investigator-sponsored study)."
        ),
    )

    # Derived on every save from the fields above (safety.clocks).
    is_susar = models.BooleanField(_("SUSAR"), default=False, editable=False)
    sponsor_report_due = models.DateTimeField(
        _("sponsor report due"), null=True, blank=True, editable=False
    )
    regulator_report_due = models.DateTimeField(
        _("regulator report due"), null=True, blank=True, editable=False
    )
    regulator_complete_report_due = models.DateTimeField(
        _("complete regulator report due"), null=True, blank=True, editable=False
    )
    sponsor_reported_at = models.DateTimeField(_("reported to sponsor at"), null=True, blank=True)
    regulator_reported_at = models.DateTimeField(
        _("reported to regulator at"), null=True, blank=True
    )
    regulator_complete_reported_at = models.DateTimeField(
        _("complete report to regulator at"), null=True, blank=True
    )

    #: When the AE (re-)entered the investigator's review queue; empty once signed.
    awaiting_review_since = models.DateTimeField(
        _("awaiting review since"), null=True, blank=True, editable=False
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True, editable=False)
    void_reason = models.TextField(_("reason voided"), blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(auto_now=True)
    #: Optimistic lock: bumped by every service write; a stale form is refused.
    row_version = models.PositiveIntegerField(default=1)

    objects = AdverseEventQuerySet.as_manager()

    #: Recomputed from the fields above on every save (safety.clocks). Audit trails show
    #: them marked as derived: a correction that moves a regulator deadline is worth seeing.
    derived_fields = (
        "is_susar",
        "sponsor_report_due",
        "regulator_report_due",
        "regulator_complete_report_due",
    )

    class Meta:
        ordering = ["onset_date", "pk"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        indexes = [
            # Reminder sweep: "sponsor reports due before T, not yet sent".
            models.Index(
                fields=["sponsor_report_due"],
                name="ae_sponsor_due_open_idx",
                condition=Q(sponsor_report_due__isnull=False)
                & Q(sponsor_reported_at__isnull=True)
                & Q(voided_at__isnull=True),
            ),
            # Reminder sweep: "SUSAR regulator reports due before T, not yet sent".
            models.Index(
                fields=["regulator_report_due"],
                name="ae_regulator_due_open_idx",
                condition=Q(regulator_report_due__isnull=False)
                & Q(regulator_reported_at__isnull=True)
                & Q(voided_at__isnull=True),
            ),
            models.Index(
                fields=["regulator_complete_report_due"],
                name="ae_complete_due_open_idx",
                condition=Q(regulator_complete_report_due__isnull=False)
                & Q(regulator_complete_reported_at__isnull=True)
                & Q(voided_at__isnull=True),
            ),
            # Review queue and the "AE unreviewed for N days" reminder.
            models.Index(
                fields=["awaiting_review_since"],
                name="ae_awaiting_review_idx",
                condition=Q(awaiting_review_since__isnull=False) & Q(voided_at__isnull=True),
            ),
            # The review queue's order (`review_queue_order`), so its first page, the
            # home page's "to review" rows among them, is read in order from the index
            # rather than by sorting every live AE of the study.
            models.Index(
                OrderBy(next_deadline(), nulls_last=True),
                F("grade").desc(),
                F("onset_date"),
                F("awareness_at"),
                F("id"),
                name="ae_review_queue_order_idx",
                condition=Q(voided_at__isnull=True),
            ),
            # The AE listing's order (Meta.ordering), live events only.
            models.Index(
                fields=["onset_date", "id"],
                name="ae_listing_order_idx",
                condition=Q(voided_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__gte=1) & Q(grade__lte=5),
                name="ae_grade_ctcae_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("onset_date")),
                name="ae_end_not_before_onset",
                violation_error_message=MESSAGES["end_before_onset"],
            ),
            models.CheckConstraint(
                condition=Q(ongoing=True, end_date__isnull=True)
                | Q(ongoing=False, end_date__isnull=False),
                name="ae_end_date_or_ongoing",
                violation_error_message=MESSAGES["end_or_ongoing"],
            ),
            models.CheckConstraint(
                condition=~Q(grade=5) | (Q(outcome=Outcome.FATAL) & Q(death_date__isnull=False)),
                name="ae_grade5_fatal_with_death_date",
                violation_error_message=MESSAGES["grade5_not_fatal"],
            ),
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.FATAL) | Q(results_in_death=True),
                name="ae_fatal_is_serious_death",
                violation_error_message=MESSAGES["fatal_not_death"],
            ),
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.FATAL) | Q(death_date__isnull=False),
                name="ae_fatal_has_death_date",
                violation_error_message=MESSAGES["fatal_no_death_date"],
            ),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(outcome=Outcome.FATAL),
                name="ae_death_date_only_when_fatal",
                violation_error_message=MESSAGES["death_date_not_fatal"],
            ),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(death_date__gte=models.F("onset_date")),
                name="ae_death_not_before_onset",
                violation_error_message=MESSAGES["death_before_onset"],
            ),
            models.CheckConstraint(
                condition=(Q(serious=True) & _any_criterion())
                | (Q(serious=False) & ~_any_criterion()),
                name="ae_serious_iff_criterion",
                violation_error_message=MESSAGES["serious_no_criterion"],
            ),
            models.CheckConstraint(
                condition=(~Q(outcome__in=ONGOING_OUTCOMES) | Q(ongoing=True))
                & (~Q(outcome__in=ENDED_OUTCOMES) | Q(ongoing=False)),
                name="ae_outcome_matches_ongoing",
                violation_error_message=MESSAGES["outcome_ongoing"],
            ),
            models.CheckConstraint(
                condition=Q(sponsor_awareness_at__isnull=True)
                | Q(sponsor_awareness_at__gte=models.F("awareness_at")),
                name="ae_sponsor_aware_not_before_investigator",
                violation_error_message=MESSAGES["sponsor_before_investigator"],
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="ae_voided_with_reason",
                violation_error_message=MESSAGES["voided_without_reason"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.participant})"

    def save(self, *args, **kwargs):
        # Deadlines follow the data they derive from, whoever saves (service, admin, shell).
        self.refresh_clocks()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *_CLOCK_FIELDS}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("safety:detail", args=[self.pk])

    def get_study(self) -> Study:
        return self.participant.study

    # Seriousness -----------------------------------------------------------------------

    @property
    def seriousness(self) -> list[str]:
        """The ticked ICH E2A criteria as API codes."""
        return [code.value for code, name in SERIOUSNESS_FIELDS.items() if getattr(self, name)]

    @property
    def seriousness_display(self) -> str:
        return ", ".join(str(Seriousness(code).label) for code in self.seriousness)

    @property
    def is_fatal_or_life_threatening(self) -> bool:
        return self.results_in_death or self.life_threatening

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @property
    def review_signature(self) -> Signature | None:
        """The standing "reviewed" signature if the event still matches what was signed.

        Listings set it for a whole page at once (`safety.services.review_signatures`);
        otherwise it is looked up here.
        """
        if "_review_signature" in self.__dict__:
            return self.__dict__["_review_signature"]
        return standing_signature(self, Meaning.REVIEWED)

    @review_signature.setter
    def review_signature(self, signature: Signature | None) -> None:
        self.__dict__["_review_signature"] = signature

    @property
    def is_reviewed(self) -> bool:
        return self.review_signature is not None

    # Validation -------------------------------------------------------------------------

    @property
    def site_zone(self) -> ZoneInfo:
        return ZoneInfo(self.participant.site.timezone)

    def clean(self) -> None:
        """The constraints' rules with a message on the field to correct, and the rules that
        need the site's time zone or another row (which a CHECK cannot see)."""
        errors: dict[str, list] = {}

        def add(field, key):
            errors.setdefault(field, []).append(MESSAGES[key])

        onset, end, death = self.onset_date, self.end_date, self.death_date
        if onset and end and end < onset:
            add("end_date", "end_before_onset")
        if self.ongoing and end:
            add("end_date", "ongoing_with_end")
        elif not self.ongoing and not end:
            add("end_date", "end_or_ongoing")
        fatal = self.outcome == Outcome.FATAL
        if self.grade == Grade.DEATH:
            if not fatal:
                add("outcome", "grade5_not_fatal")
            if not death:
                add("death_date", "grade5_no_death_date")
        if fatal and not self.results_in_death:
            add("results_in_death", "fatal_not_death")
        if fatal and not death and self.grade != Grade.DEATH:
            add("death_date", "fatal_no_death_date")
        if death and self.outcome and not fatal:
            add("death_date", "death_date_not_fatal")
        if death and onset and death < onset:
            add("death_date", "death_before_onset")
        ticked = bool(self.seriousness)
        if self.serious and not ticked:
            add("serious", "serious_no_criterion")
        elif ticked and not self.serious:
            add("serious", "criterion_not_serious")
        if self.outcome in ONGOING_OUTCOMES and not self.ongoing:
            add("ongoing", "outcome_ongoing")
        if self.outcome in ENDED_OUTCOMES and self.ongoing:
            add("ongoing", "outcome_ended")
        if self.voided_at and not self.void_reason.strip():
            add("void_reason", "voided_without_reason")
        if self.participant_id:
            self._clean_against_site(errors, add)
        if errors:
            raise ValidationError(errors)

    def _clean_against_site(self, errors, add) -> None:
        zone = self.site_zone
        today = self.participant.site.today()
        for name in ("onset_date", "end_date", "death_date"):
            value = getattr(self, name)
            if value and value > today and name not in errors:
                add(name, "in_future")
        if self.awareness_at:
            if timezone.is_naive(self.awareness_at):
                self.awareness_at = timezone.make_aware(self.awareness_at, zone)
            if self.awareness_at > timezone.now() + CLOCK_SKEW:
                add("awareness_at", "in_future")
            elif self.onset_date and self.awareness_at.astimezone(zone).date() < self.onset_date:
                add("awareness_at", "awareness_before_onset")
        if self.sponsor_awareness_at:
            if self.sponsor_awareness_at > timezone.now() + CLOCK_SKEW:
                add("sponsor_awareness_at", "in_future")
            elif self.awareness_at and self.sponsor_awareness_at < self.awareness_at:
                add("sponsor_awareness_at", "sponsor_before_investigator")
        if self.visit_id and self.visit.participant_id != self.participant_id:
            add("visit", "visit_other_participant")

    # Clocks -----------------------------------------------------------------------------

    def compute_clocks(self) -> clocks.Clocks:
        return clocks.compute_clocks(
            awareness_at=self.awareness_at,
            tz=self.participant.site.timezone,
            serious=self.serious,
            relationship=self.relationship,
            unexpected=self.expectedness == Expectedness.UNEXPECTED,
            fatal_or_life_threatening=self.is_fatal_or_life_threatening,
            sponsor_awareness_at=self.sponsor_awareness_at,
        )

    def refresh_clocks(self) -> None:
        result = self.compute_clocks()
        self.is_susar = result.is_susar
        self.sponsor_report_due = result.sponsor_report_due
        self.regulator_report_due = result.regulator_report_due
        self.regulator_complete_report_due = result.regulator_complete_report_due

    def deadlines(self, now: datetime | None = None) -> list[clocks.Deadline]:
        """The deadlines that apply, with their state (pending / overdue / met / missed)."""
        now = now or timezone.now()
        result = []
        for kind, (due_field, reported_field) in DEADLINE_FIELDS.items():
            due = getattr(self, due_field)
            if due is None:
                continue
            reported = getattr(self, reported_field)
            result.append(
                clocks.Deadline(
                    kind=kind,
                    label=kind.label,
                    due=due,
                    reported_at=reported,
                    state=clocks.deadline_state(due=due, reported_at=reported, now=now),
                )
            )
        return result

    @property
    def current_deadlines(self) -> list[clocks.Deadline]:
        return self.deadlines()

    # E-signature ------------------------------------------------------------------------

    def signature_content(self) -> dict:
        """What the investigator attests by signing "reviewed": every clinical field."""
        content = {name: getattr(self, name) for name in CLINICAL_FIELDS if name != "visit"}
        content["visit"] = self.visit_id
        content["participant"] = self.participant_id
        return content


_CLOCK_FIELDS = (
    "is_susar",
    "sponsor_report_due",
    "regulator_report_due",
    "regulator_complete_report_due",
)
