"""Failed passwords lock an account, at log-in and at signing alike (21 CFR Part 11 §11.300(d)).

django-axes counts failed log-ins per account and client address (the AXES_* settings) and
locks that pair out. Re-entering one's password to sign is a log-in attempt too, counted on
the same counter through Django's `user_login_failed` signal, so guessing through a signing
form locks log-in and the other way round, and a lock ends the session.

The signing password is checked inside the signing service's transaction, which a wrong
password rolls back: a failure written there would vanish with it. So the check notes the
failure on the request, and `LockoutMiddleware` hands it to axes once the view has answered,
outside any transaction. The middleware also lends the request to the check (axes needs the
client address), so that services keep taking no request.

When an account becomes locked its study admins get an e-mail, after the commit: who they are
is a study's business, so the notice lives in `trials.lockout_notice`.
"""

from contextvars import ContextVar
from functools import partial

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.errors import NotAllowed

_current_request = ContextVar("lockout_request", default=None)
#: Usernames whose signing password was wrong in this request, for the middleware.
FAILED_SIGNING_PASSWORDS = "_signing_password_failures"


class AccountLocked(NotAllowed):
    """The account is locked (from this client address) after failed passwords."""


def _credentials(user) -> dict:
    return {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}


def is_locked(request, user) -> bool:
    return not AxesProxyHandler.is_allowed(request, _credentials(user))


def signing_password_is_right(user, password: str) -> bool:
    """Checks a re-entered password the way log-in does: as typed, and counted by axes.

    Raises AccountLocked (and ends the session, by the middleware) when the account is
    locked, whatever the password. Outside a request (a shell, a management command) there
    is no client to lock out, and only the password is checked.
    """
    request = _current_request.get()
    if request is not None and is_locked(request, user):
        request.axes_locked_out = True  # AxesMiddleware answers with the lockout page
        raise AccountLocked(_("This account is locked after failed password attempts."))
    if password and user.check_password(password):
        if request is not None:
            # As a successful log-in does (AXES_RESET_ON_SUCCESS), once the signature holds.
            transaction.on_commit(
                partial(
                    AxesProxyHandler.reset_attempts,
                    username=user.get_username(),
                    ip_address=request.axes_ip_address,
                )
            )
        return True
    if request is not None:
        vars(request).setdefault(FAILED_SIGNING_PASSWORDS, []).append(user.get_username())
    return False


class LockoutMiddleware:
    """Records failed signing passwords with axes after the view, and ends locked sessions.

    Listed after AxesMiddleware, so that AxesMiddleware sees the lock set here and answers
    with the lockout response.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        for username in getattr(request, FAILED_SIGNING_PASSWORDS, ()):
            user_login_failed.send(
                sender=__name__,
                credentials={settings.AXES_USERNAME_FORM_FIELD: username},
                request=request,
            )
        if getattr(request, "axes_locked_out", False) and request.user.is_authenticated:
            logout(request)
        return response


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a locked request (AXES_LOCKOUT_CALLABLE): JSON for the API."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path_info.startswith("/api/"):
        detail = _("Too many failed password attempts: this account is locked for a while.")
        return JsonResponse({"detail": detail}, status=status)
    return render(request, "registration/lockout.html", status=status)
