"""Refusals and failures answer with the app's own pages (DEBUG off, as in production:
pytest-django runs with DEBUG False), which tell what happened and nothing of the data."""

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import Participant
from tests.factories import ParticipantFactory, SiteFactory
from tests.patients.journey_helpers import staff
from trials.models import Role


@pytest.fixture
def other_sites_participant(db) -> Participant:
    return ParticipantFactory(screening_number="SCR-HIDDEN-7")


def styled(html: str) -> bool:
    return 'class="navbar navbar-expand-lg navbar-dark navbar-app' in html and 'id="main"' in html


def test_another_sites_participant_is_the_styled_404_page_naming_nothing(
    other_sites_participant, client_for
):
    p = other_sites_participant
    elsewhere = SiteFactory(study=p.study, code="ELSE")
    otto = staff(p.study, "otto", Role.COORDINATOR, site=elsewhere)
    response = client_for(otto).get(reverse("patients:participant", args=[p.pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "404.html"
    assert styled(html)
    assert p.screening_number not in html
    assert "No such participant" not in html  # the exception's text stays in the logs


def test_an_unknown_address_is_the_styled_404_page(client_for, charlie):
    response = client_for(charlie).get("/no/such/page/")
    assert response.status_code == 404 and styled(response.content.decode())


def test_a_refused_write_is_the_styled_403_page_with_its_reason(
    other_sites_participant, client_for
):
    p = other_sites_participant
    monitor = staff(p.study, "molly", Role.MONITOR)
    response = client_for(monitor).get(reverse("safety:report", args=[p.pk]))
    html = response.content.decode()
    assert response.status_code == 403
    assert styled(html)
    assert "Your role in this study does not allow this." in html


def test_a_server_error_is_the_styled_500_page_without_the_error(settings, charlie):
    settings.ROOT_URLCONF = "tests.platform.error_urls"
    client = Client(raise_request_exception=False)
    client.force_login(charlie)
    response = client.get("/fail/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "navbar-app" in html and "<h1" in html
    assert "secret-detail-42" not in html and "Traceback" not in html
    assert "charlie" not in html  # rendered without the request's context: no user menu
