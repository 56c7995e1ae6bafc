"""GET /api/v1/notifications/: the user's own reminders, and nobody else's."""

from datetime import timedelta

import pytest
from django.test import Client

from accounts.tokens import issue_token
from notifications import services
from notifications.models import Notification
from safety import services as safety
from tests.notifications.helpers_reminders import at, build_cast, sweep
from tests.safety.helpers_safety import sae_fields

pytestmark = pytest.mark.django_db
URL = "/api/v1/notifications/"


@pytest.fixture
def cast():
    cast = build_cast()
    sweep(at(2025, 1, 28, 9, 0))  # W4's window opens in 3 days; a dose day
    return cast


def test_a_user_gets_their_own_notifications_with_kind_object_due_status(cast, client_for):
    answer = client_for(cast.coordinator).get(URL)
    assert answer.status_code == 200
    results = answer.json()["results"]
    mine = Notification.objects.filter(recipient=cast.coordinator)
    assert {r["id"] for r in results} == set(mine.values_list("pk", flat=True))
    window = next(r for r in results if r["kind"] == "visit_window_opens")
    visit = cast.participant.visits.get(code="W4")
    assert window["object"] == {
        "type": "visit",
        "id": visit.pk,
        "label": f"{cast.participant.subject_id} · W4",
        "url": f"/participants/{cast.participant.pk}/",
    }
    assert window["due"] == "2025-01-31"
    assert (window["status"], window["sent_at"], window["read"]) == ("pending", None, False)
    dose = next(r for r in results if r["kind"] == "dose_due")
    assert (dose["object"]["type"], dose["due"]) == ("dose", "2025-01-28")


def test_a_sent_notification_says_when(cast, client_for):
    row = Notification.objects.filter(recipient=cast.coordinator).first()
    services.send_notification(notification_id=row.pk)
    results = client_for(cast.coordinator).get(URL, {"status": "sent"}).json()["results"]
    assert [r["id"] for r in results] == [row.pk]
    assert results[0]["status"] == "sent" and results[0]["sent_at"]


def test_a_deadline_is_given_with_the_site_s_offset(cast, client_for):
    safety.report_adverse_event(
        participant=cast.participant, user=cast.investigator, **sae_fields()
    )
    sweep(at(2025, 2, 4, 9, 0))
    results = client_for(cast.admin).get(URL).json()["results"]
    (report,) = [r for r in results if r["kind"] == "sae_report_due"]
    assert report["object"]["type"] == "adverse_event"
    assert report["due"] == "2025-02-04"
    assert report["due_at"] == "2025-02-04T10:00:00+08:00"


def test_someone_without_a_membership_sees_an_empty_list(cast, client_for):
    answer = client_for(cast.outsider).get(URL)
    assert answer.status_code == 200
    assert answer.json()["count"] == 0


def test_a_token_authenticates_the_same_list(cast):
    _token, key = issue_token(user=cast.coordinator, name="test")
    answer = Client().get(URL, HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 200
    assert (
        answer.json()["count"]
        == Notification.objects.filter(recipient=cast.coordinator).count()
        > 0
    )


def test_an_anonymous_request_is_refused(cast):
    assert Client().get(URL).status_code in (401, 403)


def test_an_unknown_status_is_a_400_with_the_field(cast, client_for):
    answer = client_for(cast.coordinator).get(URL, {"status": "lost"})
    assert answer.status_code == 400
    assert "status" in answer.json()["errors"]


def test_the_list_is_newest_due_first(cast, client_for):
    sweep(at(2025, 1, 28, 9, 0) + timedelta(days=10))  # W4 overdue, later dose reminders
    dues = [r["due"] for r in client_for(cast.coordinator).get(URL).json()["results"]]
    assert len(set(dues)) > 1
    assert dues == sorted(dues, reverse=True)
