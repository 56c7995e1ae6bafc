"""The regulator clock's day 0 is the sponsor's first knowledge of a SUSAR (ICH E2A); the
sponsor's 24-hour clock stays with the investigator's awareness. Left empty, the sponsor's
awareness is the investigator's (an investigator-sponsored study)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.history import history_for
from safety import clocks, services
from tests.safety.helpers_safety import (
    SHANGHAI,
    at,
    build_cast,
    report,
    sae_fields,
)


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def susar(cast):
    """A SUSAR the investigator learnt of on 3 February 2025, 10:00 in Shanghai."""
    return report(
        cast.participant,
        cast.coordinator,
        **sae_fields(relationship="possible", expectedness="unexpected"),
    )


def end_of(day: date) -> datetime:
    return at(day.year, day.month, day.day, 23, 59, 59, 999999, tz=SHANGHAI)


def record(adverse_event, user, *, reason="", **kwargs):
    return services.record_reports(
        adverse_event=adverse_event, user=user, reported={}, reason=reason, **kwargs
    )


def test_the_regulator_clock_counts_from_the_sponsors_awareness_the_sponsor_clock_does_not():
    investigator = datetime(2025, 5, 14, 9, 30, tzinfo=ZoneInfo(SHANGHAI))
    result = clocks.compute_clocks(
        awareness_at=investigator,
        sponsor_awareness_at=investigator + timedelta(days=3),
        tz=SHANGHAI,
        serious=True,
        relationship="possible",
        unexpected=True,
        fatal_or_life_threatening=False,
    )
    assert result.sponsor_report_due == investigator + timedelta(hours=24)
    assert result.regulator_report_due == end_of(date(2025, 6, 1))


def test_without_a_sponsor_awareness_the_regulator_clock_starts_at_the_investigators(susar):
    assert susar.sponsor_awareness_at is None
    assert susar.regulator_report_due == end_of(date(2025, 2, 18))


def test_recording_the_sponsors_awareness_moves_the_regulator_deadline_and_is_audited(cast, susar):
    susar = record(susar, cast.admin, sponsor_awareness_at=at(2025, 2, 5, 16, 0))
    susar.refresh_from_db()
    assert susar.sponsor_awareness_at == at(2025, 2, 5, 16, 0)
    assert susar.regulator_report_due == end_of(date(2025, 2, 20))
    assert susar.sponsor_report_due == at(2025, 2, 4, 10, 0)
    last = history_for(susar)[-1]
    assert "sponsor_awareness_at" in {c.field for c in last.changes}
    assert last.user == "ada"


def test_the_sponsor_cannot_learn_of_the_event_before_the_investigator(cast, susar):
    with pytest.raises(ValidationError) as caught:
        record(susar, cast.admin, sponsor_awareness_at=at(2025, 2, 3, 9, 59))
    assert "sponsor_awareness_at" in caught.value.message_dict


def test_the_sponsors_awareness_cannot_be_in_the_future(cast, susar):
    with pytest.raises(ValidationError) as caught:
        record(susar, cast.admin, sponsor_awareness_at=timezone.now() + timedelta(hours=1))
    assert "sponsor_awareness_at" in caught.value.message_dict


def test_correcting_the_sponsors_awareness_needs_a_reason(cast, susar):
    susar = record(susar, cast.admin, sponsor_awareness_at=at(2025, 2, 5, 16, 0))
    with pytest.raises(ValidationError) as caught:
        record(susar, cast.admin, sponsor_awareness_at=None)
    assert "reason_for_change" in caught.value.message_dict
    susar = record(
        susar, cast.admin, sponsor_awareness_at=None, reason="Investigator-sponsored after all"
    )
    assert susar.regulator_report_due == end_of(date(2025, 2, 18))


def test_a_follow_up_cannot_move_the_investigators_awareness_after_the_sponsors(cast, susar):
    susar = record(susar, cast.admin, sponsor_awareness_at=at(2025, 2, 5, 16, 0))
    with pytest.raises(ValidationError):
        services.update_adverse_event(
            adverse_event=susar,
            user=cast.coordinator,
            changes={"awareness_at": at(2025, 2, 6, 9, 0)},
            reason="Typo",
            expected_version=susar.row_version,
        )


def test_the_sponsors_awareness_is_entered_on_the_event_page(cast, susar, client_for):
    client = client_for(cast.admin)
    url = reverse("safety:reports", args=[susar.pk])
    response = client.post(url, {"sponsor_awareness_at": "2025-02-05T16:00"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert 'id="sponsor-awareness"' in page
    assert "2025-02-05 16:00" in page
    assert "2025-02-20 23:59" in page  # the regulator deadline, local time
    susar.refresh_from_db()
    assert susar.sponsor_awareness_at == at(2025, 2, 5, 16, 0)


def test_the_page_says_why_a_sponsor_awareness_is_refused(cast, susar, client_for):
    url = reverse("safety:reports", args=[susar.pk])
    response = client_for(cast.admin).post(url, {"sponsor_awareness_at": "2025-02-03T09:00"})
    assert response.status_code == 400
    assert "before the investigator" in response.content.decode()


def test_the_api_takes_and_answers_the_sponsors_awareness(cast, susar, client_for):
    client = client_for(cast.admin)
    response = client.post(
        reverse("api-adverse-event-reports", args=[susar.pk]),
        {"sponsor_awareness_at": "2025-02-05T16:00:00"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["sponsor_awareness_at"] == "2025-02-05T08:00:00Z"
    assert answer["regulator_report_due"] == "2025-02-20T15:59:59.999999Z"
    assert answer["sponsor_report_due"] == "2025-02-04T02:00:00Z"
    refused = client.post(
        reverse("api-adverse-event-reports", args=[susar.pk]),
        {"sponsor_awareness_at": "2025-02-01T16:00:00", "reason_for_change": "Earlier fax"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "sponsor_awareness_at" in refused.json()["errors"]
