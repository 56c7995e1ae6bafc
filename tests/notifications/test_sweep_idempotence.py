"""Never twice: the unique key, and publishing each pending row once (again only if stale)."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import services, tasks
from notifications.models import Notification, Status
from tests.notifications.helpers_reminders import at, build_cast, sweep
from trials.models import ReminderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(settings):
    settings.REMINDER_CLAIM_TIMEOUT_SECONDS = 300
    return build_cast()


@pytest.fixture
def published(monkeypatch):
    """Send tasks published, by notification id (the broker itself is not used here)."""
    ids: list[int] = []

    def publish(batch):
        ids.extend(batch)
        return len(batch)

    monkeypatch.setattr(services, "publish_send_tasks", publish)
    monkeypatch.setattr(services, "publish_digest_task", lambda: True)
    return ids


def immediate_rows() -> None:
    """Make the recorded rows safety reminders: only those get a send task each (routine
    ones go in a digest), and publishing is what these tests are about."""
    Notification.objects.update(kind=ReminderEvent.SAE_REPORT_DUE)


def copy_of(row: Notification) -> Notification:
    fields = {f.attname: getattr(row, f.attname) for f in Notification._meta.concrete_fields}
    fields.pop("id")
    return Notification(**fields)


def test_sweeping_twice_records_each_reminder_once(cast):
    sweep(at(2025, 2, 7, 8, 0))
    first = set(Notification.objects.values_list("pk", flat=True))
    assert first
    sweep(at(2025, 2, 7, 8, 5))
    sweep(at(2025, 2, 7, 9, 0))
    assert set(Notification.objects.values_list("pk", flat=True)) == first


def test_the_database_refuses_a_second_row_with_the_same_key(cast):
    sweep(at(2025, 1, 6, 9, 0))
    duplicate = copy_of(Notification.objects.first())
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_the_same_reminder_on_another_due_date_is_a_new_row(cast):
    sweep(at(2025, 1, 6, 9, 0))
    other = copy_of(Notification.objects.first())
    other.due_date += timedelta(days=1)
    other.full_clean()
    other.save()


def test_rule_less_notifications_are_deduplicated_too(cast):
    sweep(at(2025, 1, 6, 9, 0))
    row = Notification.objects.first()
    Notification.objects.filter(pk=row.pk).update(rule=None)
    duplicate = copy_of(row)
    duplicate.rule = None
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_sent_row_must_say_when(cast):
    sweep(at(2025, 1, 6, 9, 0))
    row = Notification.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.filter(pk=row.pk).update(status=Status.SENT)
    Notification.objects.filter(pk=row.pk).update(status=Status.SENT, sent_at=timezone.now())


def test_the_sweep_publishes_only_after_its_transaction_commits(
    cast, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.sweep(now=at(2025, 1, 6, 9, 0))
    immediate_rows()
    assert published == []
    for callback in callbacks:
        callback()
    assert sorted(published) == sorted(Notification.objects.values_list("pk", flat=True))


def test_a_pending_row_is_published_once(cast, published):
    sweep(at(2025, 1, 6, 9, 0))
    immediate_rows()
    rows = Notification.objects.count()
    assert services.dispatch_pending() == rows
    assert services.dispatch_pending() == 0
    assert len(published) == rows
    assert not Notification.objects.filter(queued_at__isnull=True).exists()


def test_a_task_nobody_ran_is_published_again_after_the_claim_timeout(cast, published):
    sweep(at(2025, 1, 6, 9, 0))
    immediate_rows()
    rows = Notification.objects.count()
    now = timezone.now()
    services.dispatch_pending(now=now)
    assert services.dispatch_pending(now=now + timedelta(seconds=299)) == 0
    assert services.dispatch_pending(now=now + timedelta(seconds=301)) == rows
    assert len(published) == 2 * rows


def test_a_row_a_live_worker_holds_is_not_published_again(cast, published):
    sweep(at(2025, 1, 6, 9, 0))
    immediate_rows()
    rows = Notification.objects.count()
    now = timezone.now()
    services.dispatch_pending(now=now)
    held = Notification.objects.first()
    services.claim(held.pk, now=now + timedelta(seconds=200))
    again = services.dispatch_pending(now=now + timedelta(seconds=301))
    assert again == rows - 1 and held.pk not in published[rows:]
    # Once that claim too is stale, its worker is presumed dead and the row goes out again.
    assert services.dispatch_pending(now=now + timedelta(seconds=501)) == 1
    assert published[-1] == held.pk


def test_rows_waiting_out_a_back_off_or_done_are_not_published(cast, published):
    sweep(at(2025, 1, 6, 9, 0))
    immediate_rows()
    waiting, done, *others = Notification.objects.all()
    later = timezone.now() + timedelta(minutes=10)
    Notification.objects.filter(pk=waiting.pk).update(next_attempt_at=later)
    Notification.objects.filter(pk=done.pk).update(status=Status.SENT, sent_at=timezone.now())
    Notification.objects.filter(pk__in=[n.pk for n in others]).update(
        status=Status.FAILED, failed_at=timezone.now()
    )
    assert services.dispatch_pending() == 0
    assert services.dispatch_pending(now=later) == 1
    assert published == [waiting.pk]


def test_a_broker_outage_leaves_rows_pending_and_the_next_dispatch_publishes_them(
    cast, monkeypatch, published
):
    sweep(at(2025, 2, 7, 8, 0))
    immediate_rows()
    rows = Notification.objects.count()
    with monkeypatch.context() as patch:
        patch.setattr(services, "publish_send_tasks", lambda ids: 1)  # then the broker fell
        assert services.dispatch_pending() == 1
    assert Notification.objects.filter(status=Status.PENDING, queued_at=None).count() == rows - 1
    assert services.dispatch_pending() == rows - 1
    assert len(published) == rows - 1


def test_routine_rows_get_no_send_task_of_their_own(cast, published):
    sweep(at(2025, 1, 6, 9, 0))  # doses due and visit windows: routine
    assert Notification.objects.exists()
    assert services.dispatch_pending() == 0
    assert published == []


def test_publishing_stops_at_the_first_refusal_of_the_broker(monkeypatch):
    calls = []

    def broker_falls(args, **options):
        calls.append(args[0])
        assert options["retry"] is False  # a dead broker must fail at once, not block
        if len(calls) == 2:
            raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    class Producer:
        connection = type("Connection", (), {"ensure_connection": lambda self, **kw: None})()

    @contextmanager
    def producer_or_acquire():
        yield Producer()

    monkeypatch.setattr(tasks.send_notification, "apply_async", broker_falls)
    monkeypatch.setattr(tasks.send_notification.app, "producer_or_acquire", producer_or_acquire)
    assert services.publish_send_tasks([1, 2, 3, 4]) == 1
    assert calls == [1, 2]
