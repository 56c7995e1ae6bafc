"""A dose hold or stop is a safety reminder: the site's coordinators are told at once,
once; and held or stopped doses get no dose-day reminder."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.dose_modifications import modify_dosing
from tests.notifications.helpers_reminders import at, build_cast, recorded, sweep
from tests.patients import journey_helpers

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return build_cast()


def hold(cast, from_date, **kwargs):
    return modify_dosing(
        participant=cast.participant,
        user=cast.investigator,
        kind=kwargs.pop("kind", "hold"),
        from_date=from_date,
        reason="ALT five times the upper limit",
        **kwargs,
    )


def test_a_held_dose_is_not_reminded_and_one_after_the_hold_is(cast):
    hold(cast, date(2025, 1, 6), until_date=date(2025, 1, 7))
    sweep(at(2025, 1, 6, 7, 0))
    sweep(at(2025, 1, 7, 7, 0))
    assert recorded("dose_due", participant=cast.participant) == []
    sweep(at(2025, 1, 8, 7, 0))
    assert [n.due_date for n in recorded("dose_due", participant=cast.participant)] == [
        date(2025, 1, 8)
    ]


def test_a_stopped_dose_is_not_reminded(cast):
    hold(cast, date(2025, 1, 6), kind="stop")
    sweep(at(2025, 1, 8, 7, 0))
    assert recorded("dose_due", participant=cast.participant) == []


def test_the_site_coordinators_are_told_of_a_hold_at_once_and_once(cast):
    modification = hold(cast, date(2025, 1, 6))
    now = timezone.now()
    sweep(now)
    sweep(now + timedelta(minutes=5))
    (row,) = recorded("dose_hold")
    assert row.recipient == cast.coordinator  # not Paris's coordinator, not the others
    assert row.target == modification
    assert "held" in row.subject and "2025-01-06" in row.subject
    assert "ALT" not in row.body  # the reason stays behind the application's access rules
    assert row.link == reverse("assessments:doses", args=[cast.participant.pk])
    assert row.digest_id is None  # a safety reminder: not held for the daily digest


def test_a_stop_is_announced_too(cast):
    hold(cast, date(2025, 1, 6), kind="stop")
    sweep(timezone.now())
    (row,) = recorded("dose_hold")
    assert "stopped" in row.subject


def test_a_dose_reminder_never_states_a_reduced_amount_in_a_blinded_study(db):
    team = journey_helpers.enrolled_in_mood()
    mood = team["participant"]
    day = mood.baseline_date + timedelta(days=2)
    modify_dosing(
        participant=mood,
        user=team["investigator"],
        kind="reduce",
        from_date=day,
        level=2,
        reason="Fever",
    )
    sweep(at(day.year, day.month, day.day, 7, 0, tz="Europe/Rome"))
    (row,) = recorded("dose_due", participant=mood)
    assert "reduced dose" in row.body and "0.5" not in row.body and "1.5" not in row.body
