"""The inbox, the bell, and the study admin's view of every reminder's state."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.context_processors import bell
from notifications.models import Notification, Status
from tests.notifications.helpers_reminders import at, build_cast, sweep

pytestmark = pytest.mark.django_db
INBOX = reverse("notifications:inbox")
OVERVIEW = reverse("notifications:overview")


@pytest.fixture
def cast():
    cast = build_cast()
    sweep(at(2025, 2, 7, 8, 0))  # W4 overdue: cora, paul and ivy
    return cast


def bell_html(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string("notifications/_bell.html", bell(request), request=request)


def test_the_inbox_lists_my_reminders_and_no_one_else_s(cast, client_for):
    page = client_for(cast.coordinator).get(INBOX)
    assert page.status_code == 200
    mine = Notification.objects.get(recipient=cast.coordinator)
    others = Notification.objects.exclude(recipient=cast.coordinator)
    assert others.exists()
    assert f'data-notification="{mine.pk}"' in page.content.decode()
    for row in others:
        assert f'data-notification="{row.pk}"' not in page.content.decode()


def test_an_outsider_s_inbox_is_empty(cast, client_for):
    page = client_for(cast.outsider).get(INBOX)
    assert page.status_code == 200
    assert "data-notification=" not in page.content.decode()


def test_the_inbox_needs_a_login(cast, client):
    assert client.get(INBOX).status_code == 302


def test_opening_a_reminder_marks_it_read_and_goes_to_the_record(cast, client_for):
    mine = Notification.objects.get(recipient=cast.coordinator)
    answer = client_for(cast.coordinator).get(reverse("notifications:open", args=[mine.pk]))
    assert answer.status_code == 302
    assert answer["Location"] == f"/participants/{cast.participant.pk}/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_someone_else_s_reminder_cannot_be_opened(cast, client_for):
    theirs = Notification.objects.get(recipient=cast.investigator, participant=cast.participant)
    answer = client_for(cast.coordinator).get(reverse("notifications:open", args=[theirs.pk]))
    assert answer.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_bell_counts_unread_reminders_until_they_are_read(cast, client_for):
    assert 'data-unread="2"' in bell_html(cast.investigator)  # both sites' W4
    client_for(cast.investigator).post(reverse("notifications:mark-all-read"))
    assert "data-unread" not in bell_html(cast.investigator)
    assert 'data-unread="1"' in bell_html(cast.coordinator)


def test_the_bell_shows_failed_reminders_to_the_study_admin_only(cast):
    Notification.objects.filter(recipient=cast.coordinator).update(
        status=Status.FAILED, failed_at=timezone.now()
    )
    assert 'data-failed="1"' in bell_html(cast.admin)
    assert "data-failed" not in bell_html(cast.coordinator)
    assert "data-failed" not in bell_html(cast.investigator)


def test_the_study_admin_sees_every_reminder_with_its_state(cast, client_for):
    failed = Notification.objects.get(recipient=cast.coordinator)
    Notification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, failed_at=timezone.now(), attempts=5, last_error="SMTP refused"
    )
    page = client_for(cast.admin).get(OVERVIEW, {"status": "failed"}).content.decode()
    assert f'data-notification="{failed.pk}"' in page
    assert "SMTP refused" in page
    assert 'id="count-failed">1<' in page
    assert 'id="count-pending">3<' in page
    everything = client_for(cast.admin).get(OVERVIEW).content.decode()
    for row in Notification.objects.all():
        assert f'data-notification="{row.pk}"' in everything


def test_only_study_admins_see_the_overview(cast, client_for):
    assert client_for(cast.coordinator).get(OVERVIEW).status_code == 403
    assert client_for(cast.outsider).get(OVERVIEW).status_code == 403


def test_a_study_admin_sends_a_failed_reminder_again(
    cast, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(
        services, "publish_send_tasks", lambda ids: published.extend(ids) or len(ids)
    )
    failed = Notification.objects.get(recipient=cast.coordinator)
    Notification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, failed_at=timezone.now(), attempts=5
    )
    url = reverse("notifications:retry", args=[failed.pk])
    assert client_for(cast.investigator).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(cast.admin).post(url).status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.PENDING, 0)
    assert failed.pk in published


def test_the_upcoming_reminders_come_fifty_to_a_page(cast, client_for):
    """A coordinator of a large study has thousands of reminders coming: the page stays small."""
    mine = Notification.objects.get(recipient=cast.coordinator)
    first_due = timezone.localdate() + timezone.timedelta(days=1)
    for day in range(60):
        mine.pk = None
        mine.due_date = first_due + timezone.timedelta(days=day)
        mine.save()
    client = client_for(cast.coordinator)

    first = client.get(INBOX).content.decode()
    second = client.get(INBOX, {"upcoming": 2}).content.decode()

    assert first.count("data-notification=") == 50 + 1  # 50 upcoming, 1 earlier
    assert second.count("data-notification=") == 10 + 1
    assert "?upcoming=2" in first


def test_the_bell_counts_unread_and_failed_reminders_in_one_query(cast):
    """The bell is on every page: its two numbers are one query, whoever looks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Notification.objects.filter(recipient=cast.coordinator).update(
        status=Status.FAILED, failed_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as queries:
        html = bell_html(cast.admin)
    assert 'data-failed="1"' in html
    bell = [q for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(bell) == 1
