"""Routine reminders reach a person as one digest a day per study; safety ones at once."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from notifications import digests, services
from notifications.models import Digest, Notification, Status
from safety import services as safety
from tests.factories import MembershipFactory, enrolled_participant, load_demo_protocol
from tests.notifications.helpers_reminders import (
    BASELINE,
    COUNTING_BACKEND,
    PARIS,
    REFUSING_BACKEND,
    CountingBackend,
    at,
    build_cast,
    staff,
    sweep,
)
from tests.safety.helpers_safety import sae_fields
from trials.models import Role

pytestmark = pytest.mark.django_db

MONDAY = (2025, 1, 6)  # BASELINE: a dose day for every participant enrolled on it


@pytest.fixture
def cast(settings):
    settings.REMINDER_DIGEST_HOUR = 7
    settings.REMINDER_CLAIM_TIMEOUT_SECONDS = 300
    settings.REMINDER_RETRY_BACKOFF_SECONDS = 10
    settings.REMINDER_MAX_ATTEMPTS = 3
    return build_cast()


def e_mails_to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_a_coordinator_with_300_doses_due_across_60_participants_gets_one_e_mail(cast):
    for _ in range(59):
        enrolled_participant(baseline=BASELINE, version=cast.version, site=cast.site)
    for day in range(5):  # the induction week, swept early each morning before 7:00
        sweep(at(2025, 1, 6 + day, 6, 0))
    doses = Notification.objects.filter(recipient=cast.coordinator, kind="dose_due")
    assert doses.count() == 300
    assert mail.outbox == []

    digests.send_digests(now=at(2025, 1, 10, 7, 30))
    (message,) = e_mails_to(cast.coordinator)
    assert message.subject.startswith("[LDIL2-RP] ")
    body = message.body
    assert "- Dose due: 300" in body
    assert body.count("Dose due 2025-01-") == 300
    for participant in cast.site.participants.all():
        assert body.count(f"{participant.subject_id}, site PKUPH (Asia/Shanghai): ") == 1
    assert not Notification.objects.filter(recipient=cast.coordinator, status="pending").exists()
    (digest,) = Digest.objects.filter(recipient=cast.coordinator)
    assert (digest.status, digest.day, digest.attempts) == (
        Status.SENT,
        BASELINE.replace(day=10),
        1,
    )


def test_the_digest_waits_for_the_recipient_s_local_hour(cast):
    sweep(at(*MONDAY, 6, 0))
    digests.send_digests(now=at(*MONDAY, 6, 59))
    assert e_mails_to(cast.coordinator) == []
    digests.send_digests(now=at(*MONDAY, 7, 0))  # 07:00 in Shanghai: cora's digest
    assert len(e_mails_to(cast.coordinator)) == 1


def test_the_digest_s_day_and_hour_are_the_recipient_s_site_s(cast):
    sweep(at(*MONDAY, 6, 0, tz=PARIS))  # 13:00 in Shanghai: cora's digest goes
    digests.send_digests(now=at(*MONDAY, 6, 0, tz=PARIS))
    assert len(e_mails_to(cast.coordinator)) == 1
    assert e_mails_to(cast.paris_coordinator) == []
    digests.send_digests(now=at(*MONDAY, 7, 0, tz=PARIS))
    (message,) = e_mails_to(cast.paris_coordinator)
    assert message.subject.endswith(" for 2025-01-06")
    assert "site PAR (Europe/Paris)" in message.body


def test_a_study_wide_member_s_day_follows_the_study_s_lead_site(cast):
    sweep(at(2025, 2, 7, 8, 0, tz=PARIS))  # W4 overdue at both sites: ivy is told of both
    digests.send_digests(now=at(2025, 2, 7, 8, 0, tz=PARIS))
    (message,) = e_mails_to(cast.investigator)
    assert message.subject.endswith(" for 2025-02-07")  # Shanghai's date, the lead site
    assert "site PKUPH (Asia/Shanghai)" in message.body
    assert "site PAR (Europe/Paris)" in message.body


def test_two_studies_give_two_e_mails(cast):
    mood = load_demo_protocol("ld-il2-mood.yaml")
    other_site = mood.study.sites.first()
    MembershipFactory(
        user=cast.coordinator, study=mood.study, site=other_site, role=Role.COORDINATOR
    )
    enrolled_participant(baseline=BASELINE, version=mood, site=other_site)
    sweep(at(*MONDAY, 6, 0))
    digests.send_digests(now=at(*MONDAY, 23, 0))
    subjects = sorted(m.subject.split("]")[0] for m in e_mails_to(cast.coordinator))
    assert subjects == ["[LDIL2-MOOD", "[LDIL2-RP"]
    assert Digest.objects.filter(recipient=cast.coordinator).count() == 2


def test_a_chinese_reader_s_digest_is_written_in_chinese(cast, monkeypatch):
    Profile.objects.update_or_create(user=cast.coordinator, defaults={"language": "zh-hans"})
    languages = []
    compose = digests.compose_digest

    def spy(**kwargs):
        languages.append(kwargs["language"])
        return compose(**kwargs)

    monkeypatch.setattr(digests, "compose_digest", spy)
    sweep(at(*MONDAY, 6, 0))
    digests.send_digests(now=at(*MONDAY, 8, 0))
    assert "zh-hans" in languages  # no catalogue compiled yet: the language is what we check
    assert len(e_mails_to(cast.coordinator)) == 1


def test_sweeping_and_sending_twice_still_sends_one_digest(cast):
    sweep(at(*MONDAY, 8, 0))
    digests.send_digests(now=at(*MONDAY, 8, 0))
    sweep(at(*MONDAY, 8, 5))
    digests.send_digests(now=at(*MONDAY, 8, 5))
    assert len(e_mails_to(cast.coordinator)) == 1
    assert Digest.objects.filter(recipient=cast.coordinator).count() == 1


def test_a_routine_reminder_recorded_after_the_day_s_digest_goes_in_the_next_day_s(cast):
    sweep(at(*MONDAY, 8, 0))
    digests.send_digests(now=at(*MONDAY, 8, 0))
    late = enrolled_participant(baseline=BASELINE, version=cast.version, site=cast.site)
    sweep(at(*MONDAY, 10, 0))
    digests.send_digests(now=at(*MONDAY, 10, 0))
    assert len(e_mails_to(cast.coordinator)) == 1
    row = Notification.objects.get(kind="dose_due", participant=late, due_date=BASELINE)
    assert (row.status, row.digest) == (Status.PENDING, None)  # in the inbox meanwhile

    digests.send_digests(now=at(2025, 1, 7, 7, 0))
    monday, tuesday = e_mails_to(cast.coordinator)
    assert f"Dose due 2025-01-06 for {late.subject_id}" in tuesday.body
    row.refresh_from_db()
    assert row.status == Status.SENT and row.digest.day == BASELINE + timedelta(days=1)


def test_a_safety_reminder_still_goes_out_at_once(cast, monkeypatch):
    published = []
    monkeypatch.setattr(
        services, "publish_send_tasks", lambda ids: published.extend(ids) or len(ids)
    )
    monkeypatch.setattr(services, "publish_digest_task", lambda: True)
    sae = safety.report_adverse_event(
        participant=cast.participant,
        user=cast.investigator,
        **sae_fields(onset_date=BASELINE, awareness_at=at(*MONDAY, 1, 0)),
    )
    now = sae.sponsor_report_due - timedelta(hours=1)
    sweep(now)
    services.dispatch_pending(now=now)
    reports = Notification.objects.filter(kind="sae_report_due")
    assert sorted(published) == sorted(reports.values_list("pk", flat=True))
    for pk in published:
        assert services.send_notification(notification_id=pk, now=now).outcome == "sent"
    assert {m.to[0] for m in mail.outbox} == {cast.investigator.email, cast.admin.email}
    assert not reports.filter(digest__isnull=False).exists()


def test_a_refused_digest_is_retried_then_failed_and_its_reminders_are_never_lost(cast, settings):
    settings.EMAIL_BACKEND = REFUSING_BACKEND
    sweep(at(*MONDAY, 8, 0))
    rows = Notification.objects.filter(recipient=cast.coordinator)
    count = rows.count()
    start = at(*MONDAY, 8, 0)
    assert digests.send_digests(now=start).outcomes == {"retry": 1}  # cora's
    digest = Digest.objects.get(recipient=cast.coordinator)
    assert (digest.status, digest.attempts) == (Status.PENDING, 1)
    assert digest.next_attempt_at == start + timedelta(seconds=10)
    assert all(r.status == Status.PENDING and "550" in r.last_error for r in rows)

    assert digests.send_digests(now=start + timedelta(seconds=5)).outcomes == {}
    second = digests.send_digests(now=start + timedelta(seconds=10))
    assert second.outcomes == {"retry": 1}
    third = digests.send_digests(now=start + timedelta(seconds=30))
    assert third.outcomes == {"failed": 1}
    digest.refresh_from_db()
    assert (digest.status, digest.attempts) == (Status.FAILED, 3)
    assert rows.filter(status=Status.FAILED, attempts=3, failed_at__isnull=False).count() == count

    # The admin's retry sends a reminder of a failed digest on its own, at once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row = rows.first()
    services.retry_failed(notification=row)
    assert services.send_notification(notification_id=row.pk).outcome == "sent"
    (message,) = mail.outbox
    assert message.subject == row.subject


def test_a_batch_of_digests_goes_over_one_connection(cast, settings):
    settings.EMAIL_BACKEND = COUNTING_BACKEND
    CountingBackend.opened = 0
    sweep(at(2025, 2, 7, 8, 0))
    run = digests.send_digests(now=at(2025, 2, 7, 23, 0))
    assert run.outcomes == {"sent": 3}  # cora, paul, ivy
    assert len(mail.outbox) == 3
    assert CountingBackend.opened == 1


def test_sending_k_digests_costs_the_same_queries_for_any_k(cast):
    sweep(at(*MONDAY, 6, 0))
    with CaptureQueriesContext(connection) as few:
        digests.send_digests(now=at(*MONDAY, 8, 0))
    assert len(mail.outbox) == 1

    for i in range(5):
        staff(cast.study, f"co{i}", Role.COORDINATOR, site=cast.site)
    sweep(at(2025, 1, 7, 6, 0))
    with CaptureQueriesContext(connection) as many:
        digests.send_digests(now=at(2025, 1, 7, 8, 0))
    assert len(mail.outbox) > 1 + 5  # cora and the five newcomers, at least
    assert len(many) == len(few), [q["sql"][:100] for q in many.captured_queries]


class SlowBackend(CountingBackend):
    """Slow enough that two senders' rounds overlap."""

    def send_messages(self, email_messages):
        threading.Event().wait(0.02)
        return super().send_messages(email_messages)


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_digest_once(cast, settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.notifications.test_digests.SlowBackend"
    monkeypatch.setattr(digests.conf, "DIGEST_BATCH", 2)
    for i in range(5):
        staff(cast.study, f"co{i}", Role.COORDINATOR, site=cast.site)
    sweep(at(*MONDAY, 8, 0))
    start = threading.Barrier(2, timeout=10)
    errors = []

    def sender():
        try:
            start.wait()
            digests.send_digests(now=at(*MONDAY, 8, 0))
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    ids = [m.extra_headers["X-Il2-Ecrf-Digest"] for m in mail.outbox]
    assert len(ids) == len(set(ids)) == Digest.objects.count() == 6  # cora and 5 more
    # Everyone's but paul's: it is 01:00 in Paris.
    pending = Notification.objects.exclude(status=Status.SENT)
    assert set(pending.values_list("recipient__username", flat=True)) == {"paul"}
