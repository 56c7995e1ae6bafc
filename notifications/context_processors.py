"""The bell in the navigation bar: unread reminders, and failed ones for study admins.

Counted lazily, when a template shows the bell, and once per request.
"""

from functools import cached_property

from .models import Notification, Status


class Bell:
    def __init__(self, user):
        self.user = user

    @cached_property
    def unread(self) -> int:
        return Notification.objects.for_user(self.user).unread().count()

    @cached_property
    def failed(self) -> int:
        """Reminders that could not be sent, in the studies the user administers."""
        return Notification.objects.administered_by(self.user).filter(status=Status.FAILED).count()


def bell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_bell": Bell(user)}
