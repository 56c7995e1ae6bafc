"""The withdraw / complete page, and what the participant page says about consent."""

from datetime import timedelta

import pytest
from django.urls import reverse

from patients import services
from patients.models import Consent, Participant, VisitStatus
from tests.assessments.helpers_capture import participant, rp_cast, site_today


@pytest.fixture
def cast(db):
    return rp_cast()


def end_url(p):
    return reverse("patients:end", args=[p.pk])


def test_a_coordinator_withdraws_a_participant_through_the_page(cast, client_for):
    p = participant(baseline=site_today() - timedelta(days=20))
    client = client_for(cast.cora)
    page = client.get(end_url(p))
    assert page.status_code == 200
    assert page.context["form"]["end_date"].value() == site_today()
    response = client.post(
        end_url(p),
        {"outcome": "withdrawn", "end_date": site_today().isoformat(), "reason": "Moved away"},
    )
    assert response.status_code == 302
    p.refresh_from_db()
    assert (p.status, p.end_date, p.end_reason) == ("withdrawn", site_today(), "Moved away")
    assert not p.visits.filter(status=VisitStatus.UPCOMING).exists()


def test_a_monitor_cannot_end_participation_through_the_page(cast, client_for):
    p = participant(baseline=site_today() - timedelta(days=20))
    response = client_for(cast.molly).post(
        end_url(p),
        {"outcome": "completed", "end_date": site_today().isoformat(), "reason": "Done"},
    )
    assert response.status_code == 403
    assert Participant.objects.get(pk=p.pk).status == "enrolled"


def test_a_coordinator_of_another_site_does_not_find_the_page(cast, client_for):
    p = participant(baseline=site_today() - timedelta(days=20))
    assert client_for(cast.otto).get(end_url(p)).status_code == 404


@pytest.mark.parametrize(
    ("end_date", "message"),
    [
        (lambda p: p.baseline_date - timedelta(days=1), "before baseline"),
        (lambda p: site_today() + timedelta(days=1), "in the future"),
        (lambda p: p.baseline_date.replace(year=9999), "between"),
    ],
    ids=["before baseline", "in the future", "year 9999"],
)
def test_a_bad_end_date_is_refused_next_to_the_field(cast, client_for, end_date, message):
    p = participant(baseline=site_today() - timedelta(days=20))
    response = client_for(cast.cora).post(
        end_url(p),
        {"outcome": "withdrawn", "end_date": end_date(p).isoformat(), "reason": "Moved away"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["end_date"]
    assert message in errors[0]
    assert Participant.objects.get(pk=p.pk).status == "enrolled"


def test_the_participant_page_shows_the_consent_date_and_version(cast, client_for):
    p = participant(baseline=site_today() - timedelta(days=20))
    page = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk]))
    assert "No consent recorded yet." in page.content.decode()
    Consent.objects.create(
        participant=p,
        protocol_version=p.protocol_version,
        consent_date=p.baseline_date - timedelta(days=3),
        obtained_by=cast.cora,
    )
    page = client_for(cast.molly).get(reverse("patients:participant", args=[p.pk]))
    day = (p.baseline_date - timedelta(days=3)).isoformat()
    assert f"Consented to protocol version 1.0 on {day}" in page.content.decode()


def test_the_end_service_refuses_a_date_in_the_future_of_the_site(cast):
    p = participant(baseline=site_today() - timedelta(days=20))
    with pytest.raises(services.JourneyError) as refused:
        services.end_participation(
            participant=p,
            end_date=site_today() + timedelta(days=2),
            reason="Moved away",
            user=cast.cora,
        )
    assert refused.value.field == "end_date"
