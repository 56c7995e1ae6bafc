"""Idle sessions end after SESSION_COOKIE_AGE (21 CFR Part 11 automatic logoff), and using
the site keeps them alive, without rewriting the session row on every page.

Django either saves the session on every request (SESSION_SAVE_EVERY_REQUEST: three queries
a page, BEGIN / UPDATE / COMMIT, for pages that changed nothing) or only when it changed (an
idle timeout that never moves). This middleware stamps the session with the time of use at
most once a minute, which marks it changed, so Django saves it and pushes its expiry to a
full idle time from then. A user idle for the whole time is logged out within a minute of
it: the expiry is at most TOUCH_SECONDS older than the last page seen.
"""

import time

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
