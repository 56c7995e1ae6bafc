"""The outbox in the Django admin: read-only, scoped to administered studies, retry action."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Notification, Status
from tests.factories import UserFactory
from tests.notifications.helpers_reminders import at, build_cast, staff, sweep
from trials.models import Role

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture
def cast():
    cast = build_cast()
    sweep(at(2025, 2, 7, 8, 0))
    return cast


def test_an_operator_sees_every_notification_and_cannot_add_one(cast, client_for):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    page = client_for(root).get(CHANGELIST)
    assert page.status_code == 200
    assert page.context["cl"].result_count == Notification.objects.count() > 0
    assert client_for(root).get(reverse("admin:notifications_notification_add")).status_code == 403


def test_a_staff_study_admin_sees_only_the_studies_they_administer(cast, client_for, blind_study):
    other = staff(blind_study, "otis", Role.STUDY_ADMIN)
    for user in (cast.admin, other):
        user.is_staff = True
        user.save()
        user.user_permissions.add(Permission.objects.get(codename="view_notification"))
    assert client_for(cast.admin).get(CHANGELIST).context["cl"].result_count == 4
    assert client_for(other).get(CHANGELIST).context["cl"].result_count == 0


def test_the_retry_action_queues_failed_notifications_again(
    cast, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(
        services, "publish_send_tasks", lambda ids: published.extend(ids) or len(ids)
    )
    failed = Notification.objects.filter(recipient=cast.coordinator)
    failed.update(status=Status.FAILED, failed_at=timezone.now(), attempts=5)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(root).post(
            CHANGELIST,
            {"action": "retry", "_selected_action": [n.pk for n in Notification.objects.all()]},
        )
    assert not Notification.objects.filter(status=Status.FAILED).exists()
    assert set(published) >= set(failed.values_list("pk", flat=True))
