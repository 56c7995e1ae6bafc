"""Signing, and voiding signatures when the signed record changes.

A signed model provides `signature_content() -> dict`: the values the signer attested.
Services that change such a record call `void_signatures(...)` in the same transaction,
with the reason for change, so the record goes back to "needs signature" visibly.
"""

import hashlib
import json

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import lockout
from audit.tracking import acting
from core.errors import DomainError

from .models import Signature


class SignatureError(DomainError):
    """The signature was refused (wrong password, nothing to sign, already signed).

    Most refusals are about the password re-entered, so that is the field by default.
    """

    field = "password"


def fingerprint(obj) -> str:
    content = json.dumps(obj.signature_content(), sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def latest_event_id(obj) -> int | None:
    """The newest event of the record's audit trail (pghistory's pgh_id), None when its
    model keeps no trail. A sign-off records it: a later event means the record changed."""
    events = getattr(type(obj), "pgh_event_models", None)
    if not events:
        return None
    model = next(iter(events.values()))
    return model.objects.filter(pgh_obj_id=obj.pk).aggregate(latest=Max("pgh_id"))["latest"]


def standing_signature(obj, meaning: str) -> Signature | None:
    """The valid signature of `obj` with this meaning, if the record is unchanged since."""
    signature = Signature.objects.for_object(obj).valid().filter(meaning=meaning).first()
    if signature is None or signature.fingerprint != fingerprint(obj):
        return None
    return signature


@transaction.atomic
def sign(*, obj, user, password: str, meaning: str) -> Signature:
    """Sign `obj` after re-entry of the signer's password (Part 11 §11.200(a)(1)).

    The password is checked as a log-in is (accounts.lockout): exactly as typed, and a
    wrong one counts towards locking the account (§11.300(d)). Sign after the record's last
    change in the transaction: the signature marks the newest event of its trail.
    """
    try:
        if not lockout.signing_password_is_right(user, password):
            raise SignatureError(_("The password is not correct. The record was not signed."))
    except lockout.AccountLocked as exc:
        raise SignatureError(
            _("Your account is locked after failed password attempts. The record was not signed.")
        ) from exc
    void_signatures(obj, reason=_("Superseded by a new signature"), user=user, meaning=meaning)
    with acting(user, f"Signed: {meaning}"):
        return Signature.objects.create(
            record=obj,
            object_id=str(obj.pk),
            meaning=meaning,
            signer=user,
            signer_name=user.get_full_name() or user.get_username(),
            signed_at=timezone.now(),
            fingerprint=fingerprint(obj),
            record_event_id=latest_event_id(obj),
        )


def void_signatures(obj, *, reason: str, user=None, meaning: str | None = None) -> int:
    """Void the record's standing signatures (all meanings unless one is given)."""
    signatures = Signature.objects.for_object(obj).valid()
    if meaning is not None:
        signatures = signatures.filter(meaning=meaning)
    with acting(user, reason):
        return signatures.update(voided_at=timezone.now(), void_reason=reason)
