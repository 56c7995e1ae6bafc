"""Idle sessions end after SESSION_COOKIE_AGE (21 CFR Part 11 automatic logoff), and using
the site keeps them alive, without rewriting the session row on every page; a login writes
its new session once (the SESSION_ENGINE, `SessionStore` below).

Django either saves the session on every request (SESSION_SAVE_EVERY_REQUEST: three queries
a page, BEGIN / UPDATE / COMMIT, for pages that changed nothing) or only when it changed (an
idle timeout that never moves). This middleware stamps the session with the time of use at
most once a minute, which marks it changed, so Django saves it and pushes its expiry to a
full idle time from then. A user idle for the whole time is logged out within a minute of
it: the expiry is at most TOUCH_SECONDS older than the last page seen.
"""

import time

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.utils.crypto import get_random_string

#: Seconds of use between two rewrites of the session.
TOUCH_SECONDS = 60
TOUCH_KEY = "_used_at"


class IdleSessionMiddleware:
    """Placed after SessionMiddleware, so that on the way out it marks the session changed
    before SessionMiddleware decides whether to save it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # An anonymous visitor without a session gets none: only a session in use is kept.
        if session is not None and not session.is_empty():
            now = int(time.time())
            if now - session.get(TOUCH_KEY, 0) >= TOUCH_SECONDS:
                session[TOUCH_KEY] = now
        return response


class SessionStore(db.SessionStore):
    """Django's database store, but a new session is written once, by the response.

    Django's `create()` (a login cycles the key) asks whether a random key is taken, inserts
    the row at once to hold it, and the response then updates the row with what the login
    put in it: a SELECT, then BEGIN / INSERT / COMMIT, then BEGIN / UPDATE / COMMIT. Here
    `create()` only draws the key and the response's save inserts the row; the insert
    refuses a key already in use (a chance of one in 36^32), and the session then draws
    another and inserts again."""

    _unsaved = False

    def create(self):
        self._session_key = get_random_string(32, VALID_KEY_CHARS)
        self._unsaved = True
        self.modified = True

    def save(self, must_create=False):
        if self.session_key is None:  # Django's save() would create() and stop there
            self.create()
        if not self._unsaved:
            return super().save(must_create=must_create)
        while True:
            try:
                super().save(must_create=True)
            except CreateError:
                self._session_key = get_random_string(32, VALID_KEY_CHARS)
                continue
            self._unsaved = False
            return None
