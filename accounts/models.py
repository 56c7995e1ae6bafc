"""What a user prefers, kept beside Django's own user model.

The language is stored (not only a browser cookie) because reminders are written by a
Celery worker, with no browser to ask: each recipient reads them in their own language.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
