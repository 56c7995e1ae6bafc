"""What a user prefers, and their API tokens, kept beside Django's own user model.

The language is stored (not only a browser cookie) because reminders are written by a
Celery worker, with no browser to ask: each recipient reads them in their own language.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.tracking import track


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


def language_of(user) -> str:
    """The user's chosen language, or the deployment's when they never chose one."""
    try:
        return user.profile.language
    except Profile.DoesNotExist:
        return settings.LANGUAGE_CODE


class ApiTokenQuerySet(models.QuerySet):
    def for_user(self, user) -> "ApiTokenQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def usable(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


@track()
class ApiToken(models.Model):
    """A key for the API, made by its owner, that expires and can be revoked.

    Only a SHA-256 digest of the key is stored: the key is shown once when it is made, and a
    copy of the database (a backup, the audit trail) does not hand out working keys. A
    digest rather than a slow password hash because the key is 160 random bits, which no
    one can guess, and it is checked on every API request.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("used for"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    #: The key's first characters, so the owner can tell their tokens apart.
    prefix = models.CharField(_("key begins"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_because = models.CharField(_("revoked because"), max_length=200, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name} ({self.user})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired
