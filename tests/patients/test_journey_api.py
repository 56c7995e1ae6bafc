"""The participant journey through the API, with the same permissions as the pages."""

import re

import pytest
from django.urls import reverse

from tests.patients.journey_helpers import MOOD_YES, RP_YES, mood_study, rp_study, staff
from trials.models import Arm, Role


def journey(coordinator, investigator, code, answers, stratum=None):
    """Screen, answer, sign and enrol one participant; return the enrol answer."""
    body = {"site": None, "screening_number": "A-1", "year_of_birth": 1979, "sex": "F"}
    study_sites = {"LDIL2-RP": "PKUPH", "LDIL2-MOOD": "OSR"}
    body["site"] = study_sites[code]
    if stratum:
        body["stratum"] = stratum
    created = coordinator.post(
        reverse("api-study-participants", args=[code]), body, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == "screening"
    verdict = coordinator.post(
        reverse("api-eligibility", args=[pk]), {"answers": answers}, content_type="application/json"
    )
    assert verdict.json() == {"eligible": True, "failed": []}
    signed = investigator.post(
        reverse("api-eligibility-sign", args=[pk]),
        {"password": "correct-horse-battery", "meaning": "eligibility confirmed"},
        content_type="application/json",
    )
    assert signed.status_code == 200, signed.content
    assert set(signed.json()) == {"signed_by", "signed_at"}
    enrolled = coordinator.post(
        reverse("api-enrol", args=[pk]),
        {"consent_date": "2026-01-02", "baseline_date": "2026-01-05"},
        content_type="application/json",
    )
    assert enrolled.status_code == 200, enrolled.content
    return pk, enrolled.json()


def test_screen_confirm_enrol_and_read_the_calendar_through_the_api(db, client_for):
    study = rp_study()
    coordinator = client_for(staff(study, "carla", Role.COORDINATOR))
    investigator = client_for(staff(study, "ines", Role.INVESTIGATOR))
    pk, enrolled = journey(coordinator, investigator, "LDIL2-RP", RP_YES)
    assert enrolled == {"subject_id": "PKUPH-001", "status": "enrolled", "arm": "LDIL2"}
    calendar = coordinator.get(reverse("api-calendar", args=[pk])).json()
    assert [v["code"] for v in calendar["visits"]] == ["W0", "W4", "W8", "W12"]
    assert calendar["visits"][1]["window_start"] == "2026-01-30"
    assert len(calendar["doses"]) == 28
    assert calendar["doses"][0] == {
        "date": "2026-01-05",
        "dose": 1.0,
        "unit": "MIU",
        "route": "SC",
        "phase": "induction",
        "status": "planned",
    }
    listing = coordinator.get(
        reverse("api-study-participants", args=["LDIL2-RP"]) + "?status=enrolled"
    )
    assert listing.json()["count"] == 1


def test_an_ineligible_answer_lists_the_failed_criteria(db, client_for):
    study = rp_study()
    coordinator = client_for(staff(study, "carla", Role.COORDINATOR))
    created = coordinator.post(
        reverse("api-study-participants", args=["LDIL2-RP"]),
        {"site": "PKUPH", "screening_number": "A-2", "year_of_birth": 2010, "sex": "M"},
        content_type="application/json",
    )
    answer = coordinator.post(
        reverse("api-eligibility", args=[created.json()["id"]]),
        {"answers": RP_YES | {"I4": 16}},
        content_type="application/json",
    )
    assert answer.json() == {"eligible": False, "failed": ["I4"]}


def test_errors_name_the_field(db, client_for):
    study = rp_study()
    coordinator = client_for(staff(study, "carla", Role.COORDINATOR))
    response = coordinator.post(
        reverse("api-study-participants", args=["LDIL2-RP"]),
        {"site": "PKUPH", "screening_number": "A-3", "year_of_birth": "old", "sex": "X"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"year_of_birth", "sex"}


def test_a_coordinator_cannot_sign_and_a_monitor_cannot_screen(db, client_for):
    study = rp_study()
    coordinator = client_for(staff(study, "carla", Role.COORDINATOR))
    monitor = client_for(staff(study, "moe", Role.MONITOR))
    body = {"site": "PKUPH", "screening_number": "A-4", "year_of_birth": 1970, "sex": "F"}
    assert (
        monitor.post(
            reverse("api-study-participants", args=["LDIL2-RP"]),
            body,
            content_type="application/json",
        ).status_code
        == 403
    )
    pk = coordinator.post(
        reverse("api-study-participants", args=["LDIL2-RP"]), body, content_type="application/json"
    ).json()["id"]
    coordinator.post(
        reverse("api-eligibility", args=[pk]), {"answers": RP_YES}, content_type="application/json"
    )
    response = coordinator.post(
        reverse("api-eligibility-sign", args=[pk]),
        {"password": "correct-horse-battery", "meaning": "eligibility confirmed"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_a_user_without_membership_gets_404_everywhere(db, client_for, charlie):
    study = rp_study()
    coordinator = client_for(staff(study, "carla", Role.COORDINATOR))
    body = {"site": "PKUPH", "screening_number": "A-5", "year_of_birth": 1970, "sex": "F"}
    pk = coordinator.post(
        reverse("api-study-participants", args=["LDIL2-RP"]), body, content_type="application/json"
    ).json()["id"]
    outsider = client_for(charlie)
    assert outsider.get(reverse("api-study-participants", args=["LDIL2-RP"])).status_code == 404
    assert outsider.get(reverse("api-calendar", args=[pk])).status_code == 404
    assert outsider.post(reverse("api-enrol", args=[pk]), {}).status_code == 404


@pytest.mark.parametrize("blinded", [True, False])
def test_a_blinded_users_api_answers_contain_no_arm(db, client_for, blinded):
    study = mood_study()
    coordinator_user = staff(study, "blake", Role.COORDINATOR, blinded=blinded)
    coordinator = client_for(coordinator_user)
    investigator = client_for(staff(study, "ines", Role.INVESTIGATOR, blinded=blinded))
    pk, enrolled = journey(coordinator, investigator, "LDIL2-MOOD", MOOD_YES, stratum="MDD")
    bodies = [
        str(enrolled),
        coordinator.get(reverse("api-study-participants", args=["LDIL2-MOOD"])).content.decode(),
        coordinator.get(reverse("api-calendar", args=[pk])).content.decode(),
        coordinator.get(reverse("api-study-protocol", args=["LDIL2-MOOD"])).content.decode(),
        coordinator.get(
            reverse("api-record-history", args=["patients.participant", pk])
        ).content.decode(),
    ]
    arms = Arm.objects.filter(version__study=study)
    found = any(
        re.search(rf"\b{arm.code}\b", body) or arm.name in body for body in bodies for arm in arms
    )
    assert found is not blinded
    assert ("arm" in enrolled) is not blinded
