"""An emergency unblinding tells the study admins through the outbox, like every reminder:
the investigator's unblinding stands whatever the mail server does, and the message is
retried until it is sent, once."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Notification, Status
from patients import services as journey
from patients.models import Unblinding
from tests.notifications.helpers_reminders import REFUSING_BACKEND
from tests.patients import journey_helpers

KIND = "emergency_unblinding"


def enrolled_in_mood():
    team = journey_helpers.enrolled_in_mood(admin_email="una@hospital.org")
    return team["participant"], team["investigator"]


@pytest.mark.django_db(transaction=True)
def test_a_refusing_mail_server_does_not_undo_or_break_the_unblinding(settings, client_for):
    settings.EMAIL_BACKEND = REFUSING_BACKEND
    settings.REMINDER_RETRY_BACKOFF_SECONDS = 10
    participant, investigator = enrolled_in_mood()
    page = client_for(investigator).post(
        reverse("patients:unblind", args=[participant.pk]),
        {"password": "correct-horse-battery", "reason": "Anaphylaxis: the ER must know"},
    )
    assert page.status_code == 302
    assert Unblinding.objects.filter(participant=participant, user=investigator).exists()

    now = timezone.now()
    services.sweep(now=now, dispatch=False)
    (row,) = Notification.objects.filter(kind=KIND)
    assert row.recipient.username == "una"
    assert services.send_notification(notification_id=row.pk, now=now).outcome == "retry"
    row.refresh_from_db()
    assert row.status == Status.PENDING and "550 relay refused" in row.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = now + timedelta(minutes=5)
    services.sweep(now=later, dispatch=False)  # the next sweep records nothing new
    assert services.send_notification(notification_id=row.pk, now=later).outcome == "sent"
    assert services.send_notification(notification_id=row.pk, now=later).outcome == "skipped"
    assert Notification.objects.filter(kind=KIND).count() == 1
    (message,) = mail.outbox
    assert message.to == ["una@hospital.org"]


def test_the_notice_goes_to_the_study_admins_at_once_and_never_names_the_arm(db):
    participant, investigator = enrolled_in_mood()
    journey.emergency_unblind(
        participant=participant,
        user=investigator,
        password="correct-horse-battery",
        reason="Anaphylaxis: the ER must know",
    )
    assert mail.outbox == []  # nothing is sent from the investigator's request
    services.sweep(now=timezone.now(), dispatch=False)
    (row,) = Notification.objects.filter(kind=KIND)
    assert row.recipient.username == "una"
    assert "ines" in row.body and "Anaphylaxis" in row.body
    participant.refresh_from_db()
    assert participant.subject_id in row.subject
    assert not re.search(rf"\b{participant.arm.code}\b", row.subject + row.body)
    assert participant.arm.name not in row.subject + row.body
    assert row.link == reverse("patients:participant", args=[participant.pk])
