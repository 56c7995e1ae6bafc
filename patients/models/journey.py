"""Screening to enrolment: eligibility answers, consent, and emergency unblinding."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from trials.models import ProtocolVersion, Study

from .participant import Participant


class ParticipantRecordQuerySet(models.QuerySet):
    """For records hanging off a participant: visible exactly when the participant is."""

    def visible_to(self, user):
        return self.filter(participant__in=Participant.objects.visible_to(user))


@clinical_record()
class EligibilityAssessment(models.Model):
    """The answers to the protocol's criteria and the computed verdict.

    `answers` maps criterion codes to True / False (yes / no) or a number. The verdict is
    computed, never typed: every inclusion met and no exclusion present. An investigator
    signs it ("eligibility confirmed"); changing an answer voids that signature.
    """

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="eligibility"
    )
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="+"
    )
    answers = models.JSONField(_("answers"), default=dict)
    eligible = models.BooleanField(_("eligible"))
    failed = models.JSONField(_("failed criteria"), default=list)
    assessed_on = models.DateField(_("assessment date"))
    updated_at = models.DateTimeField(auto_now=True)
    row_version = models.PositiveIntegerField(default=1)

    objects = ParticipantRecordQuerySet.as_manager()

    #: The verdict, computed from the answers (audit trails mark it as derived).
    derived_fields = ("eligible", "failed")

    class Meta:
        verbose_name = _("eligibility assessment")

    def __str__(self) -> str:
        return f"{self.participant} eligibility"

    def get_study(self) -> Study:
        return self.participant.study

    def signature_content(self) -> dict:
        return {"answers": self.answers, "eligible": self.eligible, "failed": self.failed}

    def audit_items(self, field: str) -> dict[str, tuple[str, dict]] | None:
        """The protocol's criteria (code → text), so the audit trail shows a changed answer
        by its criterion rather than as a JSON blob."""
        if field != "answers":
            return None
        return {
            code: (text, {})
            for code, text in self.protocol_version.criteria.values_list("code", "text")
        }


@clinical_record()
class Consent(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="+"
    )
    consent_date = models.DateField(_("consent date"))
    obtained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ParticipantRecordQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "consent_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "protocol_version"], name="consent_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant} consent v{self.protocol_version.label} {self.consent_date}"

    def get_study(self) -> Study:
        return self.participant.study


@clinical_record()
class Unblinding(models.Model):
    """An emergency unblinding: this user may see this participant's arm from now on."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="unblindings"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    unblinded_at = models.DateTimeField(auto_now_add=True)

    objects = ParticipantRecordQuerySet.as_manager()

    #: Its trail is closed to blinded users (`audit.history`), the unblinder included.
    allocation_trail = True

    class Meta:
        ordering = ["unblinded_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="unblinding_has_a_reason")
        ]

    def __str__(self) -> str:
        return f"{self.participant} unblinded for {self.user}"

    def signature_content(self) -> dict:
        return {"participant": self.participant_id, "user": self.user_id, "reason": self.reason}

    def get_study(self) -> Study:
        return self.participant.study
