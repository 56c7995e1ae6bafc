"""The reminder outbox: one row per reminder per recipient, written once, sent once.

A row is the unit of idempotence: the sweep may compute the same reminder any number of
times (two beats, a retried task, a catch-up after an outage) and the unique key lets the
database keep exactly one. Sending is claimed with a conditional UPDATE, so two workers
holding the same task cannot both send, and a claim left by a dead worker expires.

Notifications are operational data, not clinical data: they are not under the audit trail
(their own columns record what happened to them).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.choices import ChoiceLabels
from patients.models import Participant
from trials.models import ReminderEvent, ReminderRule, Site, Study

#: Kinds of notification with no reminder rule: sent whatever the protocol says.
EMERGENCY_UNBLINDING = "emergency_unblinding"
#: An investigator held or stopped a participant's dosing: the site's coordinators must
#: know before the next dose is prepared.
DOSE_HOLD = "dose_hold"
KIND_CHOICES = [
    *ReminderEvent.choices,
    (EMERGENCY_UNBLINDING, _("Emergency unblinding")),
    (DOSE_HOLD, _("Dosing held or stopped")),
]

#: Kinds that reach a person in one digest a day per study (notifications.digests): their
#: lead time is days, so a morning list loses nothing, and a coordinator with hundreds of
#: doses due reads one e-mail instead of hundreds. An unreviewed AE is one of them: its rule
#: counts days, and an AE that is serious has its own report deadline, which is immediate.
ROUTINE_KINDS = frozenset(
    {
        ReminderEvent.VISIT_WINDOW_OPENS,
        ReminderEvent.VISIT_OVERDUE,
        ReminderEvent.DOSE_DUE,
        ReminderEvent.AE_UNREVIEWED,
    }
)
#: Everything else is about safety and goes out at once, one e-mail per notification: an
#: SAE report deadline, a suicidality alert, an emergency unblinding, a dose hold. A kind
#: added later is immediate unless listed above, so that a new safety reminder is never
#: held for a day.


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail and in-app")
    INBOX = "inbox", _("In-app only (no e-mail address)")


def delivery_constraints(prefix: str) -> list[models.CheckConstraint]:
    """The delivery rules an outbox row and a digest share: a sent one has its sent time, a
    failed one its failure time, and a claim is a time and a token together (the claim's
    conditional UPDATE sets both, and expiry clears both)."""
    return [
        models.CheckConstraint(
            condition=~Q(status="sent") | Q(sent_at__isnull=False),
            name=f"{prefix}_sent_has_sent_at",
        ),
        models.CheckConstraint(
            condition=~Q(status="failed") | Q(failed_at__isnull=False),
            name=f"{prefix}_failed_has_failed_at",
        ),
        models.CheckConstraint(
            condition=Q(claimed_at__isnull=True, claim_token__isnull=True)
            | Q(claimed_at__isnull=False, claim_token__isnull=False),
            name=f"{prefix}_claim_has_time_and_token",
        ),
    ]


class Digest(models.Model):
    """One e-mail listing a recipient's routine reminders of one study for one local day.

    The unique key (recipient, study, day) is what makes it one a day: a sweep run twice
    inserts one digest (ON CONFLICT DO NOTHING). It is claimed, retried and failed like a
    notification (same columns, same rules); its notifications point to it and follow its
    outcome in bulk.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminder_digests"
    )
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="+")
    #: The recipient's calendar day (their site's time zone) the digest is for.
    day = models.DateField(_("day"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "recipient"]
        verbose_name = _("reminder digest")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "study", "day"], name="digest_once_per_recipient_study_day"
            ),
            *delivery_constraints("digest"),
        ]
        indexes = [
            # The sender's claim: pending digests only.
            models.Index(fields=["day"], condition=Q(status="pending"), name="digest_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.study} · {self.day} → {self.recipient}"


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> "NotificationQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def administered_by(self, user) -> "NotificationQuerySet":
        """Every notification of the studies the user is an active study admin of."""
        return self.filter(study__in=Study.objects.administered_by(user))

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)

    def pending(self) -> "NotificationQuerySet":
        return self.filter(status=Status.PENDING)

    def routine(self) -> "NotificationQuerySet":
        return self.filter(kind__in=ROUTINE_KINDS)

    def immediate(self) -> "NotificationQuerySet":
        return self.exclude(kind__in=ROUTINE_KINDS)


class Notification(ChoiceLabels, models.Model):
    kind = models.CharField(_("reminder"), max_length=30, choices=KIND_CHOICES)
    rule = models.ForeignKey(
        ReminderRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # No index of their own: notification_inbox_idx and notification_study_status_idx lead
    # with them, and every index is one more write for each row a sweep or digest touches.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="+", db_index=False)
    # No index either: nothing looks notifications up by site, participant or content type
    # alone (a site or participant is never deleted, so PROTECT's check never runs), and
    # each of these indexes cost a write for every row a sweep inserts and a digest updates.
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # What the reminder is about: a scheduled visit, a planned dose, an AE, an alert.
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    object_label = models.CharField(_("about"), max_length=200)
    link = models.CharField(max_length=300, blank=True)
    #: The date the reminded thing is due (window opens, window closed, dose day, deadline):
    #: a date of the site's calendar; part of the unique key.
    due_date = models.DateField(_("due"))
    #: The exact moment, where there is one (a report deadline, an alert).
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)

    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    language = models.CharField(max_length=10)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("message"))

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    #: When a send task was last published for the row; empty when publishing failed.
    queued_at = models.DateTimeField(null=True, blank=True)
    #: A claim by one worker: the token proves ownership when the outcome is written.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: The digest that carries a routine notification, set when that digest is claimed;
    #: empty for immediate notifications and for routine ones no digest has taken yet.
    digest = models.ForeignKey(
        Digest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("digest"),
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-due_date", "-created_at"]
        verbose_name = _("notification")
        constraints = [
            # A sweep run twice, or two sweeps at once, insert one row (ON CONFLICT DO
            # NOTHING); NULLS NOT DISTINCT so that rule-less notifications dedupe too.
            models.UniqueConstraint(
                fields=["kind", "rule", "recipient", "content_type", "object_id", "due_date"],
                name="notification_once_per_rule_recipient_object_due",
                nulls_distinct=False,
            ),
            *delivery_constraints("notification"),
        ]
        indexes = [
            # The requeue step: pending rows only, so its cost is what is still unsent.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="notification_pending_idx",
            ),
            # A digest's claim gathers its recipient's pending routine rows no digest took.
            models.Index(
                fields=["recipient", "study"],
                condition=Q(status="pending", digest__isnull=True),
                name="notification_undigested_idx",
            ),
            # The inbox page and the API, newest due first.
            models.Index(fields=["recipient", "-due_date"], name="notification_inbox_idx"),
            # The bell's unread count on every page.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The study admin's overview, failed first.
            models.Index(fields=["study", "status"], name="notification_study_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.object_label} → {self.recipient}"
