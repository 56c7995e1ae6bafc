"""Password rules of our own, hooked in as Django password validators (AUTH_PASSWORD_VALIDATORS)
so that every way of setting a password obeys them: the page, the admin, `changepassword`."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .tokens import revoke_all_tokens


class NotTheCurrentPassword:
    """A change to the same password is no change: refused, so the user knows."""

    def validate(self, password, user=None):
        if user is not None and user.pk and user.check_password(password):
            raise ValidationError(
                _("Your new password must differ from your current password."),
                code="password_unchanged",
            )

    def get_help_text(self):
        return _("Your new password must differ from your current password.")


class ChangingRevokesApiTokens:
    """A changed password revokes the user's API tokens.

    Django calls `password_changed` after a new password is saved by any path, and not when
    an unchanged password is merely re-hashed at log-in: exactly the moment when someone
    who may have learnt the old password must lose the tokens they could have made with it.
    """

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is not None and user.pk:
            revoke_all_tokens(user=user, reason="password changed")

    def get_help_text(self):
        return _("Changing your password revokes your API tokens.")
