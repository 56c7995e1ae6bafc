"""The bell in the navigation bar: unread reminders, and failed ones for study admins.

Counted lazily, when a template shows the bell, once per request and in one query (the bell
is on every page).
"""

from functools import cached_property

from core.queries import count_each

from .models import Notification, Status


class Bell:
    def __init__(self, user):
        self.user = user

    @cached_property
    def _counts(self) -> dict[str, int]:
        return count_each(
            {
                "unread": Notification.objects.for_user(self.user).unread(),
                # Reminders that could not be sent, in the studies the user administers.
                "failed": Notification.objects.administered_by(self.user).filter(
                    status=Status.FAILED
                ),
            }
        )

    @property
    def unread(self) -> int:
        return self._counts["unread"]

    @property
    def failed(self) -> int:
        return self._counts["failed"]


def bell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_bell": Bell(user)}
