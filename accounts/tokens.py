"""Making, revoking and checking API tokens (OWASP ASVS V3: tokens expire and can be ended)."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.tracking import acting

from .models import ApiToken


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_token(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its key; the key exists only in this answer, never in the database."""
    key = secrets.token_hex(20)
    now = timezone.now()
    with acting(user, "API token created"):
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            digest=digest(key),
            prefix=key[:6],
            created_at=now,
            expires_at=now + timedelta(days=settings.API_TOKEN_DAYS),
        )
    return token, key


@transaction.atomic
def revoke_token(*, token: ApiToken, user, reason: str) -> None:
    with acting(user, f"API token revoked: {reason}"):
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_because=reason
        )


@transaction.atomic
def revoke_all_tokens(*, user, reason: str) -> int:
    with acting(user, f"API tokens revoked: {reason}"):
        return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_because=reason
        )
