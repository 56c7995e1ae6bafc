"""Reporting an adverse event on its page: times typed in the site's zone, field messages
next to the fields with what was typed kept, and the participant page listing the AEs."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from safety.models import MESSAGES, AdverseEvent
from tests.safety.helpers_safety import ae_fields, build_cast, report


@pytest.fixture
def cast(db):
    return build_cast()


def form_data(**overrides):
    data = {
        "term": "Fatigue",
        "onset_date": "2025-02-03",
        "ongoing": "on",
        "grade": "2",
        "relationship": "possible",
        "expectedness": "expected",
        "action_taken": "DOSE NOT CHANGED",
        "outcome": "NOT RECOVERED/NOT RESOLVED",
        "awareness_at": "2025-02-03T10:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def url_for(participant):
    return reverse("safety:report", args=[participant.pk])


def test_a_coordinator_reports_an_event_typed_in_the_site_time_zone(cast, client_for):
    w4 = cast.participant.visits.get(code="W4")
    response = client_for(cast.coordinator).post(
        url_for(cast.participant), form_data(visit=str(w4.pk))
    )
    adverse_event = AdverseEvent.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("safety:detail", args=[adverse_event.pk])
    # 10:00 in Shanghai (UTC+8) is 02:00 UTC.
    assert adverse_event.awareness_at == datetime(2025, 2, 3, 2, 0, tzinfo=UTC)
    assert adverse_event.visit == w4
    assert adverse_event.created_by == cast.coordinator


def test_the_same_wall_clock_time_at_a_paris_site_is_another_instant(cast, client_for):
    client_for(cast.investigator).post(url_for(cast.paris_participant), form_data())
    assert AdverseEvent.objects.get().awareness_at == datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


def test_a_refused_report_shows_field_messages_and_keeps_the_input(cast, client_for):
    response = client_for(cast.coordinator).post(
        url_for(cast.participant), form_data(term="Chest pain", serious="on")
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert str(MESSAGES["serious_no_criterion"]) in text
    assert 'value="Chest pain"' in text
    assert 'value="2025-02-03T10:00"' in text
    assert not AdverseEvent.objects.exists()


def test_a_monitor_cannot_open_the_report_page(cast, client_for):
    client = client_for(cast.monitor)
    assert client.get(url_for(cast.participant)).status_code == 403
    assert client.post(url_for(cast.participant), form_data()).status_code == 403
    assert not AdverseEvent.objects.exists()


def test_a_coordinator_cannot_report_for_another_sites_participant(cast, client_for):
    assert client_for(cast.coordinator).get(url_for(cast.paris_participant)).status_code == 404
    assert client_for(cast.outsider).get(url_for(cast.participant)).status_code == 404


def test_the_participant_page_lists_the_events_and_offers_to_report(cast, client_for):
    report(cast.participant, cast.coordinator, **ae_fields(term="Headache"))
    report(cast.paris_participant, cast.investigator, **ae_fields(term="Nausea"))
    page = client_for(cast.coordinator).get(
        reverse("patients:participant", args=[cast.participant.pk])
    )
    text = page.content.decode()
    assert "Headache" in text
    assert "Nausea" not in text
    assert "Awaiting review" in text
    assert url_for(cast.participant) in text


def test_a_monitor_sees_the_events_on_the_participant_page_without_the_offer_to_report(
    cast, client_for
):
    report(cast.participant, cast.coordinator, **ae_fields(term="Headache"))
    page = client_for(cast.monitor).get(reverse("patients:participant", args=[cast.participant.pk]))
    text = page.content.decode()
    assert "Headache" in text
    assert url_for(cast.participant) not in text
