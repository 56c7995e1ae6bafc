"""Pages in the language the user chose, on any browser they log in from.

The choice is stored on the profile (reminders need it); a browser's cookie alone would
forget it on the ward's other workstation. At log-in the profile's language is copied to
the session, and the middleware (after authentication) activates it on every page, so a
page costs no query for it. Before log-in, Django's LocaleMiddleware reads the cookie the
login page's switcher sets, then the browser's Accept-Language.
"""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from .models import language_of

SESSION_KEY = "language"


@receiver(user_logged_in)
def remember_language_at_log_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = language_of(user)


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = request.session.get(SESSION_KEY)
            if language is None:  # a session opened before this middleware existed
                language = request.session[SESSION_KEY] = language_of(user)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
