"""A monitor's bookmark: since when the changes at their sites are news to them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangesSeen(models.Model):
    """When the user last marked the changes at their sites as seen (the monitor's "since
    my last visit"). A bookmark of one person, not study data: not under the audit trail."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="changes_seen"
    )
    seen_at = models.DateTimeField(_("changes seen at"))

    class Meta:
        verbose_name = _("changes seen")

    def __str__(self) -> str:
        return f"{self.user} saw changes up to {self.seen_at:%Y-%m-%d %H:%M}"
