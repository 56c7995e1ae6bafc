"""outbox_status: what a monitoring system runs to learn that reminders are stuck."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Notification, Status
from tests.notifications.helpers_reminders import build_cast, dose_row
from trials.models import ReminderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    return build_cast()


def status(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("outbox_status", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_an_outbox_with_nothing_stuck_is_ok(cast):
    dose_row(cast)
    # A routine reminder waits for the daily digest, however long: it is not late.
    Notification.objects.update(created_at=timezone.now() - timedelta(hours=10))
    code, out, err = status()
    assert code == 0 and err == ""
    assert "0 safety pending (0 late)" in out
    assert "routine pending" in out


def test_a_safety_reminder_pending_too_long_is_critical(cast):
    row = dose_row(cast)
    Notification.objects.filter(pk=row.pk).update(
        kind=ReminderEvent.SAE_REPORT_DUE, created_at=timezone.now() - timedelta(minutes=20)
    )
    code, out, err = status()
    assert code == 2
    assert "1 safety pending (1 late)" in out
    assert "CRITICAL: 1 safety reminder(s) pending for more than 15 min" in err
    assert status("--stale-minutes", "30")[0] == 0


def test_a_safety_reminder_waiting_out_its_back_off_is_not_late(cast):
    row = dose_row(cast)
    Notification.objects.filter(pk=row.pk).update(
        kind=ReminderEvent.SAE_REPORT_DUE,
        created_at=timezone.now() - timedelta(hours=1),
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    assert status()[0] == 0


def test_a_failed_send_is_critical_until_it_is_old(cast):
    row = dose_row(cast)
    failed_at = timezone.now() - timedelta(hours=2)
    Notification.objects.filter(pk=row.pk).update(status=Status.FAILED, failed_at=failed_at)
    code, out, err = status()
    assert code == 2 and "1 failed in 24 h" in out and "sends failed" in err
    assert status("--failed-hours", "1")[0] == 0
