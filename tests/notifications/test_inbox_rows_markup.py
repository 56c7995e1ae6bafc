"""The due and delivery cells of the inbox and the overview read as they did when they were
templates.

A reminder's due time and delivery state are written in Python (`{% notification_due %}`,
`{% notification_status %}`, for speed); the templates they replaced are kept beside this
file as the reference, in English and in Chinese, for every delivery state, with and
without a site and an exact due time.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation

from notifications.models import Notification, Status
from notifications.templatetags.notification_tags import notification_due, notification_status
from tests.markup import normalized
from tests.notifications.helpers_reminders import at, build_cast, sweep

pytestmark = pytest.mark.django_db

#: The templates as they were (tests/notifications/reference/): _due.html and _status.html
#: verbatim, and _inbox_table.html whose includes take them from the context.
REFERENCE = Path(__file__).parent / "reference"
OLD_DUE = (REFERENCE / "_due.html").read_text()
OLD_STATUS = (REFERENCE / "_status.html").read_text()

LANGUAGES = ["en", "zh-hans"]


def template(source: str):
    return engines["django"].from_string(source)


@pytest.fixture
def cast():
    """The coordinator's reminders in every shape: pending, sent, failed; read or not; with an
    exact due time or a date only; at a site or study-wide; coming and past."""
    cast = build_cast()
    sweep(at(2025, 2, 7, 8, 0))
    mine = Notification.objects.get(recipient=cast.coordinator)
    today, now = timezone.localdate(), timezone.now()
    shapes = [
        {"status": Status.SENT, "sent_at": at(2025, 2, 7, 8, 5), "read_at": now},
        {"status": Status.FAILED, "failed_at": now, "site": None},
        {"due_at": at(2025, 2, 9, 14, 30), "subject": "<b>Report</b> & sign"},
        {"due_at": at(2025, 2, 9, 14, 30), "site": None, "status": Status.SENT, "sent_at": now},
    ]
    for days, shape in enumerate(shapes * 2):
        mine.pk = None
        # The first four are coming (upcoming list), the next four past (earlier list).
        mine.due_date = today + timedelta(days=days + 1 if days < 4 else -days - 10)
        for field, value in {"status": Status.PENDING, "read_at": None, **shape}.items():
            setattr(mine, field, value)
        mine.save()
    return cast


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_due_and_delivery_cells_read_as_the_templates_wrote_them(cast, language):
    due, status = template(OLD_DUE), template(OLD_STATUS)
    rows = Notification.objects.select_related("site").order_by("pk")
    assert {n.status for n in rows} == set(Status.values)
    with translation.override(language):
        for n in rows:
            assert normalized(notification_due(n)) == normalized(due.render({"n": n}))
            assert normalized(notification_status(n)) == normalized(status.render({"n": n}))


def test_the_inbox_escapes_a_reminder_s_subject(cast, client_for):
    response = client_for(cast.coordinator).get(reverse("notifications:inbox"))
    assert "&lt;b&gt;Report&lt;/b&gt; &amp; sign" in response.content.decode()
