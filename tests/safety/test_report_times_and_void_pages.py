"""The SAE report-times form and the void form, through the AE page: what each role may do,
what a success leaves behind, and how a bad value is answered (neither form asks for a
password: recording a report time and voiding are audited with a reason, not signed)."""

import pytest
from django.urls import reverse

from safety import services
from safety.models import AdverseEvent
from tests.safety.helpers_safety import at, build_cast, report, sae_fields


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def sae(cast):
    """Pneumonia in Shanghai: investigator aware 3 Feb 2025 10:00, sponsor due 4 Feb 10:00."""
    return report(cast.participant, cast.coordinator, **sae_fields())


def post_report_times(client, adverse_event, **data):
    return client.post(reverse("safety:reports", args=[adverse_event.pk]), data)


def post_void(client, adverse_event, **data):
    data.setdefault("row_version", adverse_event.row_version)
    return client.post(reverse("safety:void", args=[adverse_event.pk]), data)


# Report times ----------------------------------------------------------------------------


def test_the_coordinator_records_the_sponsor_report_time_on_the_page(cast, sae, client_for):
    client = client_for(cast.coordinator)
    response = post_report_times(client, sae, sponsor_reported_at="2025-02-04T09:00")
    assert response.status_code == 302
    sae.refresh_from_db()
    assert sae.sponsor_reported_at == at(2025, 2, 4, 9, 0)  # read as Shanghai time
    page = client.get(response.url).content.decode()
    assert "Report times saved." in page
    assert "ae-deadline-met" in page


@pytest.mark.parametrize("role", ["investigator", "admin"])
def test_the_investigator_and_the_study_admin_may_record_report_times(cast, sae, client_for, role):
    response = post_report_times(
        client_for(getattr(cast, role)), sae, sponsor_reported_at="2025-02-04T11:00"
    )
    assert response.status_code == 302
    sae.refresh_from_db()
    assert sae.sponsor_reported_at == at(2025, 2, 4, 11, 0)


def test_a_monitor_may_not_record_report_times_and_an_outsider_sees_nothing(cast, sae, client_for):
    monitor = client_for(cast.monitor)
    assert 'id="report-form"' not in monitor.get(sae.get_absolute_url()).content.decode()
    assert post_report_times(monitor, sae, sponsor_reported_at="2025-02-04T09:00").status_code == (
        403
    )
    outsider = client_for(cast.outsider)
    assert post_report_times(outsider, sae, sponsor_reported_at="2025-02-04T09:00").status_code == (
        404
    )
    sae.refresh_from_db()
    assert sae.sponsor_reported_at is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("4 February, morning", "Enter a valid date/time."),
        ("2099-01-01T09:00", "This cannot be in the future."),
        ("2025-02-03T09:00", "A report cannot be sent before awareness of the event."),
    ],
)
def test_a_bad_report_time_is_refused_next_to_the_field(cast, sae, client_for, value, message):
    response = post_report_times(client_for(cast.coordinator), sae, sponsor_reported_at=value)
    assert response.status_code == 400
    assert message in response.content.decode()
    sae.refresh_from_db()
    assert sae.sponsor_reported_at is None


def test_correcting_a_report_time_on_the_page_asks_for_the_reason(cast, sae, client_for):
    client = client_for(cast.coordinator)
    post_report_times(client, sae, sponsor_reported_at="2025-02-04T09:00")
    response = post_report_times(client, sae, sponsor_reported_at="2025-02-04T08:00")
    assert response.status_code == 400
    assert "Give a reason for changing a recorded report date." in response.content.decode()
    response = post_report_times(
        client, sae, sponsor_reported_at="2025-02-04T08:00", reason_for_change="Fax log: 08:00"
    )
    assert response.status_code == 302
    sae.refresh_from_db()
    assert sae.sponsor_reported_at == at(2025, 2, 4, 8, 0)


# Void ------------------------------------------------------------------------------------


def test_the_investigator_voids_an_event_on_the_page(cast, sae, client_for):
    client = client_for(cast.investigator)
    response = post_void(client, sae, void_reason="Entered for the wrong participant")
    assert response.status_code == 302
    sae.refresh_from_db()
    assert sae.is_voided
    assert sae.void_reason == "Entered for the wrong participant"
    page = client.get(response.url).content.decode()
    assert 'id="ae-voided"' in page
    assert "Entered for the wrong participant" in page
    assert 'id="void-form"' not in page
    assert list(AdverseEvent.objects.for_study(cast.study).live()) == []


@pytest.mark.parametrize("role", ["coordinator", "monitor", "admin"])
def test_only_an_investigator_of_the_site_may_void(cast, sae, client_for, role):
    client = client_for(getattr(cast, role))
    assert 'id="void-form"' not in client.get(sae.get_absolute_url()).content.decode()
    assert post_void(client, sae, void_reason="Duplicate").status_code == 403
    sae.refresh_from_db()
    assert not sae.is_voided


def test_an_investigator_of_another_site_or_an_outsider_gets_404(cast, sae, client_for):
    for user in (cast.paris_investigator, cast.outsider):
        assert post_void(client_for(user), sae, void_reason="Duplicate").status_code == 404
    sae.refresh_from_db()
    assert not sae.is_voided


def test_voiding_without_a_reason_is_refused(cast, sae, client_for):
    response = post_void(client_for(cast.investigator), sae, void_reason="  ")
    assert response.status_code == 400
    assert 'id="void-form"' in response.content.decode()
    sae.refresh_from_db()
    assert not sae.is_voided


def test_voiding_a_version_changed_since_the_page_was_opened_is_refused(cast, sae, client_for):
    opened = sae.row_version
    services.record_reports(
        adverse_event=sae, user=cast.coordinator, reported={"sponsor": at(2025, 2, 4, 9, 0)}
    )
    response = post_void(
        client_for(cast.investigator), sae, void_reason="Duplicate", row_version=opened
    )
    assert response.status_code == 400
    assert "The adverse event changed after you opened it." in response.content.decode()
    sae.refresh_from_db()
    assert not sae.is_voided


def test_a_voided_event_takes_no_report_time(cast, sae, client_for):
    post_void(client_for(cast.investigator), sae, void_reason="Duplicate")
    response = post_report_times(
        client_for(cast.coordinator), sae, sponsor_reported_at="2025-02-04T09:00"
    )
    assert response.status_code == 400
    assert "voided" in response.content.decode()
    sae.refresh_from_db()
    assert sae.sponsor_reported_at is None
