"""The API's token authentication: `Authorization: Token KEY`, as with DRF's authtoken, but
the key is looked up by its digest, expires, and is refused for a locked or inactive user."""

from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import lockout
from .models import ApiToken
from .tokens import digest


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        answer = super().authenticate(request)
        if answer is not None and lockout.is_locked(request._request, answer[0]):
            # The account is locked after guessed passwords (log-in or signing): the same
            # person must not carry on through a token until the lock is lifted.
            raise AuthenticationFailed(_("This account is locked after failed password attempts."))
        return answer

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(digest=digest(key)).first()
        if token is None or token.revoked_at is not None:
            raise AuthenticationFailed(_("Invalid token."))
        if token.is_expired:
            raise AuthenticationFailed(
                _("The token has expired: make a new one on your API tokens page.")
            )
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
