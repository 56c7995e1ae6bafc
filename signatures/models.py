"""Electronic signatures in the manner of 21 CFR Part 11 (§11.50, §11.70, §11.200).

A signature records the signer, their printed name, the time, and the meaning ("eligibility
confirmed", "reviewed", ...), and is linked to the record it signs by a fingerprint of the
signed content: when the record changes, the fingerprint no longer matches and the
signature is voided visibly (`voided_at`, `void_reason`), never deleted.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.tracking import clinical_record
from core.times import site_time


class Meaning(models.TextChoices):
    ELIGIBILITY_CONFIRMED = "eligibility confirmed", _("Eligibility confirmed")
    REVIEWED = "reviewed", _("Reviewed")
    UNBLINDED = "emergency unblinding", _("Emergency unblinding")


class SignatureQuerySet(models.QuerySet):
    def for_object(self, obj) -> "SignatureQuerySet":
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )

    def valid(self) -> "SignatureQuerySet":
        return self.filter(voided_at__isnull=True)


@clinical_record()
class Signature(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=40)
    record = GenericForeignKey("content_type", "object_id")
    meaning = models.CharField(_("meaning"), max_length=40, choices=Meaning.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    signer_name = models.CharField(_("printed name"), max_length=300)
    signed_at = models.DateTimeField(_("signed at"))
    fingerprint = models.CharField(max_length=64)
    #: The newest event of the signed record's audit trail when it was signed (pghistory's
    #: pgh_id, drawn from one sequence): a record with no later event is unchanged since, by
    #: rule of the database's triggers, so its fingerprint need not be recomputed to know
    #: the signature still matches. None: signed before this was kept (always compared).
    record_event_id = models.BigIntegerField(null=True, blank=True, editable=False)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.TextField(_("why the signature no longer holds"), blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="signature_record_idx")]
        constraints = [
            # One standing signature per record and meaning; earlier ones are voided.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "meaning"],
                condition=Q(voided_at__isnull=True),
                name="signature_one_valid_per_record_and_meaning",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="signature_voided_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_meaning_display()} – {self.signer_name}, {site_time(self.signed_at)}"
