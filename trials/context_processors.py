"""Template context shared by every page: the user's memberships drive the navigation, and
the number of things on their work lists is its badge (as the home page last counted them,
from the session: `trials.worklist.nav_total`; no query of its own)."""

from functools import cached_property

from . import access, worklist


class WorkCount:
    def __init__(self, session):
        self.session = session

    @cached_property
    def total(self) -> int | None:
        # A request built without the session middleware (a rendering test) has no count.
        return None if self.session is None else worklist.nav_total(self.session)


def memberships(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_memberships": []}
    return {
        "my_memberships": access.memberships(user),
        "work_count": WorkCount(getattr(request, "session", None)),
    }
