"""A batch of digests over one SMTP connection: one refused message costs only itself, and
the others of the batch are sent and marked sent together."""

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from bench.smtp_sink import SmtpSink
from notifications import digests
from notifications.models import Digest, Notification, Status
from tests.notifications.helpers_reminders import at, build_cast, sweep

pytestmark = pytest.mark.django_db

FRIDAY = (2025, 2, 7)  # W4 open, a dose due: cora, paul and ivy each get a digest


@pytest.fixture
def cast(settings):
    settings.REMINDER_DIGEST_HOUR = 7
    settings.REMINDER_RETRY_BACKOFF_SECONDS = 10
    settings.REMINDER_MAX_ATTEMPTS = 3
    return build_cast()


class RefusesCora(EmailBackend):
    """A mail server that refuses one mailbox and takes the others."""

    def send_messages(self, messages):
        if any("cora" in address for m in messages for address in m.to):
            raise OSError("550 mailbox unavailable")
        return super().send_messages(messages)


def test_one_refused_digest_does_not_hold_back_the_rest_of_its_batch(cast, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_digest_batches.RefusesCora"
    sweep(at(*FRIDAY, 8, 0))
    run = digests.send_digests(now=at(*FRIDAY, 23, 0))
    assert run.outcomes == {"sent": 2, "retry": 1}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.paris_coordinator.email, cast.investigator.email]
    )
    refused = Digest.objects.get(recipient=cast.coordinator)
    assert (refused.status, refused.attempts) == (Status.PENDING, 1)
    assert "550" in refused.last_error
    cora = Notification.objects.filter(recipient=cast.coordinator)
    assert cora.exists() and not cora.exclude(status=Status.PENDING).exists()
    others = Notification.objects.exclude(recipient=cast.coordinator).filter(
        kind__in=["visit_window_opens", "dose_due", "visit_overdue"]
    )
    assert others.exists() and not others.exclude(status=Status.SENT).exists()


def test_digests_reach_a_real_smtp_server_over_one_connection(cast, settings):
    sweep(at(*FRIDAY, 8, 0))
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
        run = digests.send_digests(now=at(*FRIDAY, 23, 0))
        assert run.outcomes == {"sent": 3}
        assert (sink.messages, sink.connections) == (3, 1)
    assert not Digest.objects.exclude(status=Status.SENT).exists()
