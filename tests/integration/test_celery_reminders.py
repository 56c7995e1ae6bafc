"""Reminders through a real Celery worker and Redis: never lost, never twice.

Safety reminders go out one by one as soon as they are due (routine ones wait for the
day's digest, tests/notifications/test_digests.py). A participant at the Shanghai site has
a serious adverse event the investigator learnt of 13 hours ago: its sponsor report is due
in 11 hours, inside the protocol's 12-hour lead, so exactly one reminder is due
(sae_report_due, to the site's only investigator) and exactly one e-mail must come out,
whatever happens on the way. Visits and doses are recorded or not yet due, and nobody holds
the roles their routine reminders would go to.
"""

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.models import Notification, Status
from patients.models import DoseStatus, PlannedDose, ScheduledVisit, VisitStatus
from safety.services import report_adverse_event
from tests.factories import MembershipFactory, UserFactory, enrolled_participant, load_demo_protocol
from tests.integration.celery_harness import DEAD_BROKER, broker_idle, celery_rig, wait_until
from tests.safety.helpers_safety import sae_fields
from trials.models import Role

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SWEEP = """
from notifications import services
print("due:", services.sweep().due)
"""
DISPATCH = """
from notifications import services
print("published:", services.dispatch_pending())
"""


@pytest.fixture
def rig(transactional_db, tmp_path):
    """Redis, a mailbox and a process spawner; every process killed before the flush."""
    with celery_rig(tmp_path) as rig:
        yield rig


@pytest.fixture
def due_sae(rig):
    """The serious adverse event whose sponsor report is due (the reminder's target)."""
    today = timezone.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    baseline = today - timedelta(days=22)  # W4 (day 29, window -3) opens on today + 3
    participant = enrolled_participant(baseline=baseline, version=load_demo_protocol())
    PlannedDose.objects.filter(participant=participant).update(status=DoseStatus.GIVEN)
    ScheduledVisit.objects.filter(participant=participant, code="W0").update(
        status=VisitStatus.DONE, actual_date=baseline
    )
    investigator = UserFactory(username="cora")
    MembershipFactory(
        user=investigator, study=participant.study, site=participant.site, role=Role.INVESTIGATOR
    )
    aware = timezone.now() - timedelta(hours=13)
    return report_adverse_event(
        participant=participant,
        user=investigator,
        **sae_fields(
            onset_date=aware.astimezone(ZoneInfo("Asia/Shanghai")).date(), awareness_at=aware
        ),
    )


def sent_reminder():
    return Notification.objects.filter(status=Status.SENT).first()


def the_only_reminder(target) -> Notification:
    (row,) = Notification.objects.all()
    assert (row.kind, row.target, row.recipient.username) == ("sae_report_due", target, "cora")
    return row


def test_a_due_safety_reminder_is_e_mailed_once_however_often_it_is_swept(rig, due_sae):
    rig.processes.start_worker("w1")
    assert "due: 1" in rig.processes.run(SWEEP)
    row = wait_until(sent_reminder, "the reminder to be sent")
    rig.processes.run(SWEEP)
    rig.processes.run(DISPATCH)
    wait_until(lambda: broker_idle(rig.broker), "the broker to be idle")
    assert the_only_reminder(due_sae) == row
    assert rig.mailbox.count_for(row.pk) == 1
    assert len(rig.mailbox.messages()) == 1


def test_two_sweeps_at_once_still_send_one_e_mail(rig, due_sae, tmp_path):
    rig.processes.start_worker("w1")
    go = tmp_path / "go"
    at_once = f"""
import time
from pathlib import Path
from notifications import services
while not Path({str(go)!r}).exists():
    time.sleep(0.005)
print("due:", services.sweep().due)
"""
    sweeps = [rig.processes.django(at_once), rig.processes.django(at_once)]
    time.sleep(3)  # both processes are up and polling for the go
    go.touch()
    assert all("due: 1" in rig.processes.finish(sweep) for sweep in sweeps)
    row = wait_until(sent_reminder, "the reminder to be sent")
    wait_until(lambda: broker_idle(rig.broker), "the broker to be idle")
    assert the_only_reminder(due_sae) == row
    assert len(rig.mailbox.messages()) == 1


def test_a_worker_killed_between_claim_and_send_is_replaced_and_the_reminder_goes_once(
    rig, due_sae, tmp_path
):
    short_claims = {"REMINDER_CLAIM_TIMEOUT_SECONDS": "3"}
    marker = tmp_path / "sending"
    doomed = rig.processes.start_worker(
        "doomed",
        EMAIL_BACKEND="tests.integration.blocking_backend.BlockingEmailBackend",
        BLOCKING_MARKER=str(marker),
        **short_claims,
    )
    rig.processes.run(SWEEP, **short_claims)
    wait_until(marker.exists, "the worker to claim the reminder and start sending")
    rig.processes.kill(doomed)

    row = the_only_reminder(due_sae)
    assert (row.status, row.attempts, row.sent_at) == (Status.PENDING, 1, None)
    assert row.claimed_at is not None
    assert rig.broker.hlen("unacked") == 1  # acks_late: the message was never acknowledged
    assert rig.mailbox.messages() == []

    replacement = rig.processes.start_worker("replacement", **short_claims)
    stale = row.claimed_at + timedelta(seconds=3.5)
    time.sleep(max(0.0, (stale - timezone.now()).total_seconds()))
    assert "published: 1" in rig.processes.run(DISPATCH, **short_claims)
    row = wait_until(sent_reminder, "the replacement worker to send the reminder")
    assert row.attempts == 2
    assert rig.mailbox.count_for(row.pk) == 1

    # The dead worker's message, redelivered when the broker's visibility timeout ends,
    # finds the reminder sent and sends nothing.
    rig.processes.run(
        f"from notifications.tasks import send_notification\nsend_notification.delay({row.pk})"
    )
    wait_until(
        lambda: b"'skipped'" in replacement.log.read_bytes(), "the redelivered task to finish"
    )
    assert len(rig.mailbox.messages()) == 1


def test_a_broker_down_during_the_sweep_delays_the_reminder_until_it_is_back(rig, due_sae):
    rig.processes.start_worker("w1")
    started = time.monotonic()
    output = rig.processes.run(SWEEP, CELERY_BROKER_URL=DEAD_BROKER)
    assert time.monotonic() - started < 20  # it gave up at once instead of blocking
    assert "Broker unavailable: 1 reminder(s) left pending" in output
    row = the_only_reminder(due_sae)
    assert (row.status, row.queued_at, row.attempts) == (Status.PENDING, None, 0)
    assert rig.broker.llen("celery") == 0

    assert "published: 1" in rig.processes.run(DISPATCH)  # the broker is back
    row = wait_until(sent_reminder, "the reminder to be sent once the broker is back")
    assert rig.mailbox.count_for(row.pk) == 1
    assert len(rig.mailbox.messages()) == 1


def test_a_mail_server_that_always_refuses_ends_in_failed_with_the_attempts(
    rig, due_sae, unused_port
):
    rig.processes.start_worker(
        "w1",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(unused_port),
        EMAIL_TIMEOUT="2",
        REMINDER_MAX_ATTEMPTS="3",
        REMINDER_RETRY_BACKOFF_SECONDS="1",
    )
    rig.processes.run(SWEEP)
    row = wait_until(
        lambda: Notification.objects.filter(status=Status.FAILED).first(),
        "the reminder to fail for good",
    )
    assert row.attempts == 3
    assert row.failed_at is not None and row.sent_at is None
    assert "Connection refused" in row.last_error or "ConnectionRefusedError" in row.last_error
    assert rig.mailbox.messages() == []


@pytest.fixture
def unused_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
