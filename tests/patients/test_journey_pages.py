"""The coordinator screens, the investigator confirms, the coordinator enrols: in the pages."""

import re
from datetime import date

import pytest
from django.urls import reverse

from patients.models import Participant
from tests.patients.journey_helpers import (
    MOOD_YES,
    RP_YES,
    eligible_and_confirmed,
    enrolled_in_mood,
    mood_study,
    rp_study,
    screened,
    staff,
)
from trials.models import Role, Site


@pytest.fixture
def rp(db):
    study = rp_study()
    other = Site.objects.create(study=study, code="PUMCH", name="Other site", timezone="UTC")
    return {
        "study": study,
        "site": study.sites.get(code="PKUPH"),
        "other": other,
        "coordinator": staff(study, "carla", Role.COORDINATOR, site=study.sites.get(code="PKUPH")),
        "investigator": staff(study, "ines", Role.INVESTIGATOR),
    }


def test_the_whole_journey_through_the_pages(rp, client_for):
    coordinator = client_for(rp["coordinator"])
    response = coordinator.post(
        reverse("patients:new-screening", args=["LDIL2-RP"]),
        {"site": rp["site"].pk, "screening_number": "S-100", "year_of_birth": 1980, "sex": "M"},
    )
    participant = Participant.objects.get(screening_number="S-100")
    assert response.status_code == 302
    answers = {f"c_{code}": value for code, value in RP_YES.items()}
    response = coordinator.post(
        reverse("patients:eligibility", args=[participant.pk]),
        {"answers": "1", "assessed_on": "2026-01-02", **answers},
    )
    assert response.status_code == 302
    investigator = client_for(rp["investigator"])
    page = investigator.get(reverse("patients:eligibility", args=[participant.pk]))
    assert b"Not yet confirmed by an investigator" in page.content
    response = investigator.post(
        reverse("patients:eligibility", args=[participant.pk]),
        {"sign": "1", "password": "correct-horse-battery"},
    )
    assert response.status_code == 302
    page = investigator.get(reverse("patients:eligibility", args=[participant.pk])).content
    assert b"Eligibility confirmed by ines" in page
    response = coordinator.post(
        reverse("patients:enrol", args=[participant.pk]),
        {"consent_date": "2026-01-02", "baseline_date": "2026-01-05"},
    )
    assert response.status_code == 302
    page = coordinator.get(reverse("patients:participant", args=[participant.pk])).content.decode()
    assert "PKUPH-001" in page
    assert len(re.findall(r'<td class="text-center small" data-state=', page)) == 28  # doses
    assert re.findall(r'<tr data-visit="(\w+)">', page) == ["W0", "W4", "W8", "W12"]
    assert "2026-03-30" in page  # W12


def test_bad_screening_input_is_shown_next_to_the_field_and_kept(rp, client_for):
    response = client_for(rp["coordinator"]).post(
        reverse("patients:new-screening", args=["LDIL2-RP"]),
        {"site": rp["site"].pk, "screening_number": "S-7", "year_of_birth": 2999, "sex": "F"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["year_of_birth"] == ["The year of birth cannot be in the future."]
    assert b'value="S-7"' in response.content


def test_a_wrong_signing_password_is_shown_on_the_password_field(rp, client_for):
    participant = screened(rp["study"], rp["coordinator"])
    client = client_for(rp["coordinator"])
    answers = {f"c_{code}": value for code, value in RP_YES.items()}
    client.post(
        reverse("patients:eligibility", args=[participant.pk]),
        {"answers": "1", "assessed_on": "2026-01-02", **answers},
    )
    response = client_for(rp["investigator"]).post(
        reverse("patients:eligibility", args=[participant.pk]),
        {"sign": "1", "password": "nope"},
    )
    assert response.context["sign_form"].errors["password"] == [
        "The password is not correct. The record was not signed."
    ]


def test_an_ineligible_checklist_shows_the_failing_criteria(rp, client_for):
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=2009)
    answers = {f"c_{code}": value for code, value in (RP_YES | {"I4": 17}).items()}
    client = client_for(rp["coordinator"])
    client.post(
        reverse("patients:eligibility", args=[participant.pk]),
        {"answers": "1", "assessed_on": "2026-01-02", **answers},
    )
    page = client.get(reverse("patients:eligibility", args=[participant.pk])).content.decode()
    assert "Not eligible" in page
    assert re.findall(r'class="failed-criterion">(\w+)', page) == ["I4"]


def test_a_coordinator_of_site_a_cannot_see_or_enrol_at_site_b(rp, client_for):
    other_coordinator = staff(rp["study"], "otto", Role.COORDINATOR, site=rp["other"])
    participant = screened(rp["study"], other_coordinator, site=rp["other"])
    client = client_for(rp["coordinator"])
    for name in ("participant", "eligibility", "enrol"):
        assert client.get(reverse(f"patients:{name}", args=[participant.pk])).status_code == 404
    response = client.post(
        reverse("patients:enrol", args=[participant.pk]),
        {"consent_date": "2026-01-02", "baseline_date": "2026-01-05"},
    )
    assert response.status_code == 404
    log = client.get(reverse("patients:screening-log", args=["LDIL2-RP"])).content.decode()
    assert participant.screening_number not in log
    # nor can she register a screening at site B
    response = client.post(
        reverse("patients:new-screening", args=["LDIL2-RP"]),
        {"site": rp["other"].pk, "screening_number": "S-9", "year_of_birth": 1980, "sex": "M"},
    )
    assert "site" in response.context["form"].errors


def test_a_user_outside_the_study_sees_no_screening_log(rp, client_for, charlie):
    assert (
        client_for(charlie).get(reverse("patients:screening-log", args=["LDIL2-RP"])).status_code
        == 404
    )


def test_a_blinded_user_sees_no_arm_on_any_page(db, client_for):
    study = mood_study()
    coordinator = staff(study, "blake", Role.COORDINATOR, blinded=True)
    investigator = staff(study, "ines", Role.INVESTIGATOR, blinded=True)
    from patients import services

    participant = screened(study, coordinator, stratum="MDD")
    eligible_and_confirmed(participant, coordinator, investigator, MOOD_YES)
    services.enrol(
        participant=participant,
        baseline_date=date(2026, 1, 5),
        consent_date=date(2026, 1, 5),
        user=coordinator,
    )
    client = client_for(coordinator)
    urls = [
        reverse("patients:participant", args=[participant.pk]),
        reverse("patients:screening-log", args=["LDIL2-MOOD"]),
        reverse("patients:eligibility", args=[participant.pk]),
        reverse("record-history", args=["patients.participant", participant.pk]),
        reverse("trials:protocol", args=["LDIL2-MOOD"]),
        reverse("home"),
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert_no_arm(body, study, url)
    assert "Blinded" in client.get(urls[0]).content.decode()


def assert_no_arm(body: str, study, where: str) -> None:
    from trials.models import Arm

    for arm in Arm.objects.filter(version__study=study):
        assert not re.search(rf"\b{arm.code}\b", body), (arm.code, where)
        assert arm.name not in body, (arm.name, where)
    assert "Placebo" not in body, where


def test_the_screening_log_pages_by_fifty_and_keeps_its_filters(rp, client_for):
    from tests.factories import ParticipantFactory

    for n in range(55):
        ParticipantFactory(
            protocol_version=rp["study"].versions.get(),
            site=rp["site"],
            screening_number=f"P-{n:03d}",
        )
    client = client_for(rp["coordinator"])
    url = reverse("patients:screening-log", args=["LDIL2-RP"])
    first = client.get(url + "?status=screening").content.decode()
    assert len(re.findall(r'href="/participants/\d+/"', first)) == 50
    assert "status=screening&amp;page=2" in first
    second = client.get(url + "?status=screening&page=2").content.decode()
    assert len(re.findall(r'href="/participants/\d+/"', second)) == 5


def test_an_enrolled_participants_eligibility_is_shown_read_only(db, client_for):
    """Eligibility is fixed at enrolment: the page offers no form the service would refuse."""
    team = enrolled_in_mood()
    page = client_for(team["coordinator"]).get(
        reverse("patients:eligibility", args=[team["participant"].pk])
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="answers"' not in body
    assert "fixed at enrolment" in body


@pytest.mark.parametrize("page", ["patients:enrol", "patients:end", "patients:reconsent"])
def test_a_monitor_is_refused_a_write_page_before_any_form_is_offered(rp, client_for, page):
    """A monitor reads everything at their sites but enters nothing: a page whose only
    purpose is a write answers 403, rather than an editable form whose POST is refused."""
    monitor = staff(rp["study"], "moira", Role.MONITOR)
    participant = screened(rp["study"], rp["coordinator"], number="S-300")
    response = client_for(monitor).get(reverse(page, args=[participant.pk]))
    assert response.status_code == 403
    for field in (b'name="consent_date"', b'name="end_date"', b'name="baseline_date"'):
        assert field not in response.content
    assert client_for(rp["coordinator"]).get(reverse(page, args=[participant.pk])).status_code in (
        200,
        302,
    )
