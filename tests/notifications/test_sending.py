"""Sending: one claim wins, a dead worker's claim expires, failures back off then fail."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.utils import timezone

from notifications import services, tasks
from notifications.models import Channel, Notification, Status
from tests.notifications.helpers_reminders import (
    REFUSING_BACKEND,
    build_cast,
    dose_row,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(settings):
    settings.REMINDER_CLAIM_TIMEOUT_SECONDS = 300
    settings.REMINDER_RETRY_BACKOFF_SECONDS = 10
    settings.REMINDER_MAX_ATTEMPTS = 3
    return build_cast()


def test_a_notification_is_e_mailed_once_and_marked_sent(cast):
    row = dose_row(cast)
    assert services.send_notification(notification_id=row.pk).outcome == "sent"
    assert services.send_notification(notification_id=row.pk).outcome == "skipped"
    (message,) = mail.outbox
    assert message.to == [cast.coordinator.email]
    assert message.subject == row.subject
    assert message.body == row.body
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claim_token) == (Status.SENT, 1, None)
    assert row.sent_at is not None


def test_only_one_of_two_claims_wins(cast):
    row = dose_row(cast)
    now = timezone.now()
    assert services.claim(row.pk, now=now) is not None
    assert services.claim(row.pk, now=now + timedelta(seconds=299)) is None
    assert services.send_notification(notification_id=row.pk).outcome == "skipped"
    assert mail.outbox == []


def test_a_claim_left_by_a_dead_worker_expires_and_the_row_is_sent_once(cast):
    row = dose_row(cast)
    now = timezone.now()
    dead = services.claim(row.pk, now=now)  # then the worker is killed
    later = now + timedelta(seconds=301)
    assert services.send_notification(notification_id=row.pk, now=later).outcome == "sent"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.attempts == 2  # the dead worker's attempt is on record
    # The dead worker's token no longer owns the row: nothing it writes sticks.
    assert not Notification.objects.filter(pk=row.pk, claim_token=dead).exists()


def test_a_refused_send_is_retried_after_a_growing_back_off_then_fails(cast, settings):
    settings.EMAIL_BACKEND = REFUSING_BACKEND
    row = dose_row(cast)
    start = timezone.now()
    first = services.send_notification(notification_id=row.pk, now=start)
    assert (first.outcome, first.retry_in) == ("retry", 10)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claim_token) == (Status.PENDING, 1, None)
    assert "550 relay refused" in row.last_error
    assert row.next_attempt_at > start

    early = services.send_notification(notification_id=row.pk, now=start + timedelta(seconds=5))
    assert early.outcome == "skipped"
    second = services.send_notification(notification_id=row.pk, now=row.next_attempt_at)
    assert (second.outcome, second.retry_in) == ("retry", 20)
    row.refresh_from_db()
    third = services.send_notification(notification_id=row.pk, now=row.next_attempt_at)
    assert third.outcome == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 3)
    assert row.failed_at is not None and row.next_attempt_at is None
    assert services.send_notification(notification_id=row.pk).outcome == "skipped"


def test_an_in_app_only_notification_is_delivered_without_mail(cast):
    cast.coordinator.email = ""
    cast.coordinator.save()
    row = dose_row(cast)
    assert row.channel == Channel.INBOX
    assert services.send_notification(notification_id=row.pk).outcome == "sent"
    assert mail.outbox == []
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_the_task_retries_with_the_service_s_countdown(cast, settings, monkeypatch):
    settings.EMAIL_BACKEND = REFUSING_BACKEND
    row = dose_row(cast)
    countdowns = []

    def retry(**kwargs):
        countdowns.append(kwargs["countdown"])
        return Retry()

    monkeypatch.setattr(tasks.send_notification, "retry", retry)
    result = tasks.send_notification.apply(args=(row.pk,))
    assert result.state == "RETRY"
    assert countdowns == [10]


def test_the_task_sends_by_id(cast):
    row = dose_row(cast)
    result = tasks.send_notification.apply(args=(row.pk,))
    assert result.get() == "sent"
    assert len(mail.outbox) == 1


def test_a_study_admin_can_send_a_failed_notification_again(cast, settings):
    settings.EMAIL_BACKEND = REFUSING_BACKEND
    settings.REMINDER_MAX_ATTEMPTS = 1
    row = dose_row(cast)
    assert services.send_notification(notification_id=row.pk).outcome == "failed"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.retry_failed(notification=row)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert services.send_notification(notification_id=row.pk).outcome == "sent"
    assert len(mail.outbox) == 1
