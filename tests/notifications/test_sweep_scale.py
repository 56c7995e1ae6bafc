"""What keeps a sweep over a whole study fast, without giving up exactly once: reminders
already recorded are not written again, words are composed per reminder and language, and
the rows are written in one statement with their values intact."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from notifications import services, texts
from notifications.models import Notification
from tests.notifications.helpers_reminders import at, build_cast, raise_alert, sweep

pytestmark = pytest.mark.django_db

#: Friday of week 4: W4's window is open, an induction dose is due.
FRIDAY = at(2025, 1, 31, 8, 0)


@pytest.fixture
def cast():
    return build_cast()


@pytest.fixture
def composed(monkeypatch):
    """The reminders whose words were written, one list per call, with its language."""
    calls: list[tuple[str, int]] = []
    original = texts.compose_each

    def spy(dues, *, language):
        dues = list(dues)
        calls.append((language, len(dues)))
        return original(dues, language=language)

    monkeypatch.setattr(services, "compose_each", spy)
    return calls


def test_a_sweep_that_finds_only_recorded_reminders_writes_nothing(cast, composed):
    first = sweep(FRIDAY)
    assert first.due > 0 and composed
    rows = Notification.objects.count()
    composed.clear()
    with CaptureQueriesContext(connection) as queries:
        again = sweep(FRIDAY + timedelta(minutes=5))
    assert again.due == first.due  # still due, and counted
    assert composed == []  # no words written for them again
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert Notification.objects.count() == rows


def test_only_the_reminders_not_recorded_yet_are_written(cast, composed):
    sweep(FRIDAY)
    dropped = Notification.objects.order_by("pk").first()
    Notification.objects.filter(pk=dropped.pk).delete()
    composed.clear()
    sweep(FRIDAY + timedelta(minutes=5))
    assert composed == [("en", 1)]
    restored = Notification.objects.get(
        kind=dropped.kind,
        rule=dropped.rule,
        recipient=dropped.recipient,
        object_id=dropped.object_id,
        due_date=dropped.due_date,
    )
    assert (restored.subject, restored.body) == (dropped.subject, dropped.body)


def test_words_are_composed_once_per_language_for_all_reminders_of_that_language(cast, composed):
    Profile.objects.update_or_create(user=cast.coordinator, defaults={"language": "zh-hans"})
    sweep(FRIDAY)
    languages = [language for language, _ in composed]
    assert sorted(languages) == ["en", "zh-hans"]  # one call per language, not per reminder
    chinese = Notification.objects.filter(recipient=cast.coordinator)
    assert chinese.count() > 1 and set(chinese.values_list("language", flat=True)) == {"zh-hans"}
    english = Notification.objects.filter(language="en").count()
    assert english > 1 and dict(composed)["en"] <= english


def test_a_recorded_moment_keeps_its_microseconds(cast):
    moment = at(2025, 1, 6, 11, 0).replace(microsecond=123456)
    alert = raise_alert(cast.participant, cast.coordinator, moment)
    sweep(at(2025, 1, 6, 11, 1))
    row = Notification.objects.get(kind="phq9_self_harm")
    assert row.due_at == alert.raised_at == moment
    assert row.due_date == moment.date()
