"""A signing password is a log-in attempt: wrong ones count with wrong log-ins, and at the
limit signing and log-in are both locked, the session ends and the study admins are told
(21 CFR Part 11 §11.300(d)). Eligibility, adverse-event review and unblinding all sign
through the same service, so all three are covered."""

from datetime import date

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from patients import services as journey
from signatures.models import Signature
from tests.factories import PASSWORD
from tests.patients.journey_helpers import (
    RP_YES,
    enrolled_in_mood,
    screened,
    staff,
)
from tests.safety.helpers_safety import build_cast, report, sae_fields
from trials.models import Role

LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def adverse_event(cast):
    return report(cast.participant, cast.coordinator, **sae_fields())


def api_sign(client, adverse_event, password):
    return client.post(
        reverse("api-adverse-event-sign", args=[adverse_event.pk]),
        {"password": password, "meaning": "reviewed"},
        content_type="application/json",
    )


def log_in(username, password):
    return Client().post(reverse("login"), {"username": username, "password": password})


def test_thirty_guessed_passwords_do_not_end_in_a_signature(cast, adverse_event, client_for):
    client = client_for(cast.investigator)
    answers = [api_sign(client, adverse_event, f"guess-{n}").status_code for n in range(30)]
    assert answers[: LIMIT - 1] == [400] * (LIMIT - 1)
    assert answers[LIMIT - 1] == 429
    assert api_sign(client, adverse_event, PASSWORD).status_code == 403  # logged out
    assert not Signature.objects.exists()


def test_the_locking_answer_of_the_api_is_json(cast, adverse_event, client_for):
    client = client_for(cast.investigator)
    for n in range(LIMIT - 1):
        api_sign(client, adverse_event, f"guess-{n}")
    answer = api_sign(client, adverse_event, "last-guess")
    assert answer.status_code == 429
    assert "locked" in answer.json()["detail"]


def test_a_signing_lockout_ends_the_session_and_locks_log_in(cast, adverse_event, client_for):
    client = client_for(cast.investigator)
    for n in range(LIMIT):
        api_sign(client, adverse_event, f"guess-{n}")
    assert client.get(reverse("home")).status_code == 302  # back to the log-in page
    assert log_in("ivy", PASSWORD).status_code == 429


def test_wrong_log_ins_and_wrong_signing_passwords_add_up(cast, adverse_event, client_for):
    for _ in range(LIMIT - 1):
        log_in("ivy", "wrong")
    client = client_for(cast.investigator)
    assert api_sign(client, adverse_event, "wrong").status_code == 429
    assert log_in("ivy", PASSWORD).status_code == 429


def test_an_open_session_cannot_sign_once_log_in_is_locked(cast, adverse_event, client_for):
    client = client_for(cast.investigator)  # logged in before the lock
    for _ in range(LIMIT):
        log_in("ivy", "wrong")
    assert api_sign(client, adverse_event, PASSWORD).status_code == 429
    assert not Signature.objects.exists()


def test_a_right_password_signs_and_clears_earlier_mistakes(
    cast, client_for, django_capture_on_commit_callbacks
):
    first = report(cast.participant, cast.coordinator, **sae_fields())
    second = report(cast.participant, cast.coordinator, **sae_fields(term="Sepsis"))
    client = client_for(cast.investigator)
    for n in range(LIMIT - 1):
        api_sign(client, first, f"guess-{n}")
    with django_capture_on_commit_callbacks(execute=True):  # the signature commits
        assert api_sign(client, first, PASSWORD).status_code == 200
    assert api_sign(client, second, "one-typo").status_code == 400  # not locked
    assert api_sign(client, second, PASSWORD).status_code == 200


def test_the_study_admins_are_told_once_when_signing_locks_an_account(
    cast, adverse_event, client_for, django_capture_on_commit_callbacks
):
    client = client_for(cast.investigator)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(LIMIT + 2):
            api_sign(client, adverse_event, f"guess-{n}")
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]
    message = mail.outbox[0]
    assert "ivy" in message.subject
    assert "127.0.0.1" in message.body
    assert "correct-horse" not in message.body


def test_the_study_admins_are_told_when_log_in_locks_an_account(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(LIMIT):
            log_in("cora", "wrong")
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]
    assert "cora" in mail.outbox[0].subject


def test_guessing_on_the_eligibility_page_locks_signing(db, client_for):
    from tests.patients.journey_helpers import rp_study

    study = rp_study()
    coordinator = staff(study, "carla", Role.COORDINATOR)
    investigator = staff(study, "ines", Role.INVESTIGATOR)
    participant = screened(study, coordinator)
    journey.record_eligibility(
        participant=participant, answers=RP_YES, assessed_on=date(2026, 1, 2), user=coordinator
    )
    client = client_for(investigator)
    url = reverse("patients:eligibility", args=[participant.pk])
    answers = [
        client.post(url, {"sign": "1", "password": f"guess-{n}"}).status_code for n in range(LIMIT)
    ]
    assert answers == [200] * (LIMIT - 1) + [429]
    client.post(url, {"sign": "1", "password": PASSWORD})
    assert not Signature.objects.exists()
    assert log_in("ines", PASSWORD).status_code == 429


def test_guessing_on_the_unblinding_page_locks_signing(db, client_for):
    team = enrolled_in_mood()
    participant, investigator = team["participant"], team["investigator"]
    client = client_for(investigator)
    url = reverse("patients:unblind", args=[participant.pk])
    reason = {"reason": "Anaphylaxis"}
    answers = [
        client.post(url, {"password": f"guess-{n}", **reason}).status_code for n in range(LIMIT)
    ]
    assert answers == [200] * (LIMIT - 1) + [429]
    client.post(url, {"password": PASSWORD, **reason})
    assert not participant.unblindings.exists()
    assert log_in("ines", PASSWORD).status_code == 429
