"""Screening numbers: a pattern the protocol sets, and one number per study even in a race."""

import threading
from unittest import mock

import pytest
from django.db import connections
from django.urls import reverse

from patients import services
from patients.models import Participant
from tests.factories import PROTOCOL_DIR
from tests.patients.journey_helpers import rp_study, staff
from trials.models import Role, Site
from trials.protocol_file import ProtocolFileError, parse_protocol


@pytest.fixture
def rp(db):
    study = rp_study()
    return {"study": study, "coordinator": staff(study, "carla", Role.COORDINATOR)}


def post_screening(client, number):
    return client.post(
        reverse("api-study-participants", args=["LDIL2-RP"]),
        {"site": "PKUPH", "screening_number": number, "year_of_birth": 1980, "sex": "F"},
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "number",
    ["S-001\u202e100", "S\U0001f600", "S 001", "S-00\u200b1", "Ｓ-001"],
    ids=["right-to-left override", "emoji", "space", "zero-width space", "full-width letter"],
)
def test_a_screening_number_outside_the_default_pattern_is_refused_by_the_api(
    rp, client_for, number
):
    response = post_screening(client_for(rp["coordinator"]), number)
    assert response.status_code == 400
    assert "screening_number" in response.json()["errors"]
    assert not Participant.objects.exists()


def test_the_screening_page_refuses_a_spoofing_character_next_to_the_field(rp, client_for):
    site = Site.objects.get(code="PKUPH")
    response = client_for(rp["coordinator"]).post(
        reverse("patients:new-screening", args=["LDIL2-RP"]),
        {"site": site.pk, "screening_number": "S-1\u202e2", "year_of_birth": 1980, "sex": "M"},
    )
    assert response.status_code == 200
    assert "screening_number" in response.context["form"].errors


def test_letters_digits_dash_and_underscore_are_accepted(rp, client_for):
    response = post_screening(client_for(rp["coordinator"]), "Scr_01-a")
    assert response.status_code == 201, response.content


def protocol_with_pattern(pattern: str) -> str:
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text(encoding="utf-8")
    return text.replace(
        'version: {label: "1.0", effective: 2019-11-01}',
        'version: {label: "1.0", effective: 2019-11-01, '
        f"screening_number_pattern: '{pattern}'}}",
    )


def test_the_protocol_file_sets_the_screening_number_pattern(db):
    from trials.services import load_protocol

    spec = parse_protocol(protocol_with_pattern("RP-[0-9]{3}"))
    assert spec.version.screening_number_pattern == "RP-[0-9]{3}"
    version, _ = load_protocol(spec, activate=True)
    coordinator = staff(version.study, "carla", Role.COORDINATOR)
    site = version.study.sites.get()

    def screen(number):
        return services.screen(
            study=version.study,
            site=site,
            screening_number=number,
            year_of_birth=1980,
            sex="F",
            user=coordinator,
        )

    assert screen("RP-001").screening_number == "RP-001"
    with pytest.raises(services.JourneyError) as refused:
        screen("S-001")
    assert refused.value.field == "screening_number"


def test_a_pattern_that_is_not_a_regular_expression_is_refused_when_the_file_is_read():
    with pytest.raises(ProtocolFileError, match="screening_number_pattern.*regular expression"):
        parse_protocol(protocol_with_pattern("RP-[0-9"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_screenings_with_one_number_give_one_201_and_field_errors_never_500(
    client_for,
):
    study = rp_study()
    coordinators = [staff(study, f"carla{i}", Role.COORDINATOR) for i in range(3)]
    clients = [client_for(user) for user in coordinators]
    # Every request has checked that the number is free before any of them inserts it.
    checked = threading.Barrier(len(clients), timeout=10)
    real_acting = services.acting

    def acting_once_all_checked(*args, **kwargs):
        checked.wait()
        return real_acting(*args, **kwargs)

    answers: list = []

    def post(client):
        try:
            answers.append(post_screening(client, "S-RACE"))
        except Exception as exc:  # reported by the assertions below
            answers.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    with mock.patch.object(services, "acting", acting_once_all_checked):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert sorted(a.status_code for a in answers) == [201, 400, 400], answers
    for refused in (a for a in answers if a.status_code == 400):
        assert refused.json() == {
            "errors": {
                "screening_number": ["Screening number S-RACE is already used in this study."]
            }
        }
    assert Participant.objects.filter(screening_number="S-RACE").count() == 1
