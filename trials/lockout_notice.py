"""The study admins hear when an account of one of their studies is locked.

The lock itself is the accounts layer's (`accounts.lockout`); who administers the locked
user's studies is a question only trials can answer, so the notice listens to axes' signal
here, connected in `TrialsConfig.ready`, and accounts does not import upward.
"""

import logging
from functools import partial

from axes.helpers import get_failure_limit
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.lockout import FAILED_SIGNING_PASSWORDS
from accounts.models import language_of
from core.times import site_time

from .models import Membership, Role

logger = logging.getLogger(__name__)


@receiver(user_locked_out)
def _when_locked(sender, request=None, username=None, ip_address=None, **kwargs):
    """Tells the study admins when an account becomes locked (not at each refusal after)."""
    if request is None or not username:
        return
    limit = get_failure_limit(request, {settings.AXES_USERNAME_FORM_FIELD: username})
    if getattr(request, "axes_failures_since_start", None) != limit:
        return
    transaction.on_commit(
        partial(
            tell_study_admins,
            username=username,
            ip_address=ip_address or "?",
            signing=bool(getattr(request, FAILED_SIGNING_PASSWORDS, None)),
        )
    )


def tell_study_admins(*, username: str, ip_address: str, signing: bool) -> int:
    """E-mail each study admin of the locked user's studies, in the admin's language."""
    user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if user is None:
        return 0
    studies = Membership.objects.active().filter(user=user).values("study")
    admins = {
        membership.user
        for membership in Membership.objects.active()
        .filter(study__in=studies, role=Role.STUDY_ADMIN, user__is_active=True)
        .exclude(user__email="")
        .select_related("user__profile")
    }
    values = {
        "username": username,
        "name": user.get_full_name() or username,
        "time": site_time(timezone.now()),  # an account is no site's: UTC, named
        "ip": ip_address,
        "limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    for admin in sorted(admins, key=lambda u: u.pk):
        with translation.override(language_of(admin)):
            what = _("an electronic signature") if signing else _("log-in")
            subject = _("[il2-ecrf] Account %(username)s locked after failed passwords") % values
            body = _(
                "The account %(username)s (%(name)s) was locked at %(time)s after "
                "%(limit)s wrong passwords from the address %(ip)s; the last one was given "
                "for %(what)s.\n\n"
                "Log-in, e-signatures and the account's API tokens are refused from that "
                "address for %(minutes)s minutes, and the account's session was ended.\n\n"
                "If the user did not make these attempts, someone may be trying to use their "
                "account: contact them. An administrator can lift the lock earlier in the "
                "administration (Axes, access attempts)."
            ) % (values | {"what": what})
        try:
            send_mail(subject, body, None, [admin.email])
        except Exception:
            # The lock holds whatever the mail server does; the log keeps the notice.
            logger.exception("Could not tell %s that %s is locked", admin.email, username)
    logger.warning("Account %s locked after failed passwords from %s", username, ip_address)
    return len(admins)
