"""install_schedules (idempotent, keeps what admins tuned) and send_reminders (no worker)."""

from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from notifications import services, tasks
from notifications.models import Digest, Notification, Status
from tests.factories import enrolled_participant, load_demo_protocol
from tests.notifications.helpers_reminders import REFUSING_BACKEND, staff
from trials.models import Role

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_install_schedules_installs_the_sweep_and_the_requeue_once():
    run("install_schedules")
    run("install_schedules")
    entries = {e.name: e for e in PeriodicTask.objects.select_related("interval")}
    assert set(entries) == {"Reminders: sweep", "Reminders: requeue pending"}
    assert entries["Reminders: sweep"].task == "notifications.sweep"
    assert entries["Reminders: sweep"].interval.every == 5
    assert entries["Reminders: requeue pending"].task == "notifications.requeue_pending"
    assert IntervalSchedule.objects.count() == 2


def test_install_schedules_keeps_an_interval_tuned_in_the_admin_unless_reset(settings):
    settings.REMINDER_SWEEP_MINUTES = 10
    run("install_schedules")
    tuned, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.filter(name="Reminders: sweep").update(interval=tuned)
    assert "left as it is" in run("install_schedules")
    assert PeriodicTask.objects.get(name="Reminders: sweep").interval.every == 2
    run("install_schedules", "--reset")
    assert PeriodicTask.objects.get(name="Reminders: sweep").interval.every == 10


@pytest.fixture
def due_today(settings):
    """A participant whose first dose is today at the Shanghai site, and its coordinator.

    Both reminders are routine: they go out in one digest, from midnight on (hour 0) so that
    the test does not depend on the hour it runs at."""
    settings.REMINDER_DIGEST_HOUR = 0
    today = timezone.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    participant = enrolled_participant(baseline=today, version=load_demo_protocol())
    return staff(participant.study, "cora", Role.COORDINATOR, site=participant.site)


def test_send_reminders_sweeps_and_sends_in_process(due_today):
    output = run("send_reminders")
    rows = Notification.objects.filter(recipient=due_today)
    assert {n.kind for n in rows} == {"dose_due", "visit_window_opens"}
    assert all(n.status == Status.SENT for n in rows)
    (digest,) = mail.outbox  # one e-mail for both routine reminders
    assert all(n.subject.removeprefix("[LDIL2-RP] ") in digest.body for n in rows)
    assert "1 digest(s) sent" in output
    assert "nothing to send" in run("send_reminders")
    assert len(mail.outbox) == 1


def test_send_reminders_leaves_a_failure_for_its_next_run(due_today, settings):
    settings.EMAIL_BACKEND = REFUSING_BACKEND
    settings.REMINDER_RETRY_BACKOFF_SECONDS = 600
    assert "1 digest(s) retry" in run("send_reminders")
    rows = Notification.objects.filter(recipient=due_today)
    assert all(n.status == Status.PENDING and n.attempts == 1 for n in rows)
    assert all("550 relay refused" in n.last_error for n in rows)
    digest = Digest.objects.get()
    assert digest.next_attempt_at > timezone.now() + timedelta(minutes=9)
    assert "nothing to send" in run("send_reminders")


def test_the_beat_tasks_sweep_requeue_and_send_the_digests(due_today, monkeypatch):
    published, digest_rounds = [], []
    monkeypatch.setattr(
        services, "publish_send_tasks", lambda ids: published.extend(ids) or len(ids)
    )
    monkeypatch.setattr(services, "publish_digest_task", lambda: digest_rounds.append(1))
    assert tasks.sweep.apply().get() == 2  # the dose and the baseline window, to cora
    assert published == []  # the sweep's own dispatch waits for a commit (none in a test)
    # Both are routine: no task of their own, a digest round carries them.
    assert tasks.requeue_pending.apply().get() == 0
    assert published == [] and digest_rounds == [1]
    assert tasks.send_digests.apply().get() == {"sent": 1}
    assert len(mail.outbox) == 1
