"""The study admin's failed reminders, registered on the home page (`trials.worklist`) from
`NotificationsConfig.ready`."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from trials.models import Role
from trials.worklist import Scope, Section, register_section

from .models import Notification, Status


def failed_reminders(scope: Scope) -> QuerySet:
    """Outbox rows that could not be sent, in the studies the user administers, the most
    recent failure first (notification_study_status_idx)."""
    rows = Notification.objects.filter(scope.in_studies("study"), status=Status.FAILED)
    if scope.day:
        rows = rows.filter(due_date=scope.day)
    return rows.select_related("study", "recipient").order_by("-failed_at", "-pk")


def register() -> None:
    register_section(
        Section(
            key="failed-reminders",
            role=Role.STUDY_ADMIN,
            title=_("Reminders that failed"),
            empty=_("Every reminder was sent."),
            columns=(_("Reminder"), _("Recipient"), _("Failed at"), _("Error")),
            row_template="notifications/worklist/_failed_row.html",
            rows=failed_reminders,
            day_means=_("due on that day"),
        )
    )
