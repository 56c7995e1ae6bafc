"""A reminder's due time and delivery state, as the inbox and the overview show them.

Written in Python, not as included templates: the inbox shows a hundred reminders, and two
includes per row were half of its rendering. The markup is what those templates wrote.
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.times import site_time
from notifications.models import Status

register = template.Library()

#: The badge's colour per delivery state (pending and any other: secondary).
BADGES = {Status.SENT: "success", Status.FAILED: "danger"}


@register.simple_tag
def notification_due(notification) -> str:
    """When the reminded thing is due: the moment in the site's time zone where there is
    one, else the site's date."""
    if notification.due_at:
        return site_time(notification.due_at, notification.site)
    return notification.due_date.isoformat()


@register.simple_tag
def notification_status(notification) -> SafeString:
    """The delivery state as a badge, and when it was sent (site time) once it was."""
    badge = format_html(
        '<span class="badge text-bg-{}">{}</span>',
        BADGES.get(notification.status, "secondary"),
        notification.get_status_display(),
    )
    if notification.status == Status.SENT:
        return format_html(
            '{}\n  <small class="text-muted">{}</small>',
            badge,
            site_time(notification.sent_at, notification.site),
        )
    return badge
