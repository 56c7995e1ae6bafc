"""Age is derived from the year of birth, never typed twice; sex is an explicit choice."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from patients import services
from patients.models import Participant
from tests.patients.journey_helpers import RP_YES, rp_study, screened, staff
from trials.models import Role, Site

ON = date(2026, 1, 5)


@pytest.fixture
def rp(db):
    study = rp_study()
    return {"study": study, "coordinator": staff(study, "carla", Role.COORDINATOR)}


def test_the_age_criterion_is_derived_from_the_year_of_birth_when_left_blank(rp):
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=1985)
    assessment = services.record_eligibility(
        participant=participant, answers=RP_YES, assessed_on=ON, user=rp["coordinator"]
    )
    assert assessment.answers["I4"] == 41
    assert assessment.eligible


def test_a_typed_age_the_year_of_birth_rules_out_is_refused_by_its_criterion(rp):
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=1985)
    with pytest.raises(ValidationError) as refused:
        services.record_eligibility(
            participant=participant,
            answers=RP_YES | {"I4": 34},
            assessed_on=ON,
            user=rp["coordinator"],
        )
    assert refused.value.message_dict == {
        "I4": ["Born in 1985, the participant is 40 or 41 on 2026-01-05, not 34."]
    }


def test_either_age_the_birthday_allows_is_accepted(rp):
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=1985)
    for age in (40, 41):
        assessment = services.record_eligibility(
            participant=participant,
            answers=RP_YES | {"I4": age},
            assessed_on=ON,
            user=rp["coordinator"],
            reason="Birthday checked",
        )
        assert assessment.answers["I4"] == age


def test_when_the_birthday_decides_eligibility_the_age_must_be_typed(rp):
    # Born in 2008: 17 or 18 in January 2026, and the minimum age is 18.
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=2008)
    with pytest.raises(ValidationError) as refused:
        services.record_eligibility(
            participant=participant, answers=RP_YES, assessed_on=ON, user=rp["coordinator"]
        )
    assert "enter the age" in refused.value.message_dict["I4"][0]
    assessment = services.record_eligibility(
        participant=participant,
        answers=RP_YES | {"I4": 17},
        assessed_on=ON,
        user=rp["coordinator"],
    )
    assert assessment.failed == ["I4"]


def test_the_eligibility_api_refuses_a_disagreeing_age_with_a_field_message(rp, client_for):
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=1985)
    response = client_for(rp["coordinator"]).post(
        reverse("api-eligibility", args=[participant.pk]),
        {"answers": RP_YES | {"I4": 25}, "assessed_on": ON.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "I4" in response.json()["errors"]


def test_the_eligibility_page_prefills_the_age_and_refuses_a_disagreeing_one(rp, client_for):
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=1985)
    client = client_for(rp["coordinator"])
    url = reverse("patients:eligibility", args=[participant.pk])
    page = client.get(url)
    expected = page.context["form"]["assessed_on"].value().year - 1985
    assert page.context["form"]["c_I4"].value() == expected
    answers = {f"c_{code}": value for code, value in (RP_YES | {"I4": 25}).items()}
    response = client.post(url, {"answers": "1", "assessed_on": ON.isoformat(), **answers})
    assert response.status_code == 200
    assert response.context["form"].errors["c_I4"] == [
        "Born in 1985, the participant is 40 or 41 on 2026-01-05, not 25."
    ]


def test_the_screening_page_opens_with_no_sex_chosen_and_requires_one(rp, client_for):
    site = Site.objects.get(code="PKUPH")
    client = client_for(rp["coordinator"])
    url = reverse("patients:new-screening", args=["LDIL2-RP"])
    page = client.get(url).content.decode()
    assert '<option value="" selected>---------</option>' in page
    response = client.post(
        url, {"site": site.pk, "screening_number": "S-50", "year_of_birth": 1980}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["sex"] == ["This field is required."]
    assert not Participant.objects.exists()


@pytest.mark.parametrize("sex", [None, ""])
def test_the_screening_api_requires_an_explicit_sex(rp, client_for, sex):
    body = {"site": "PKUPH", "screening_number": "A-9", "year_of_birth": 1980}
    if sex is not None:
        body["sex"] = sex
    response = client_for(rp["coordinator"]).post(
        reverse("api-study-participants", args=["LDIL2-RP"]), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "sex" in response.json()["errors"]


def _protocol_with_criteria(criteria_yaml: str):
    """The RP protocol with its eligibility list replaced (as a new study, activated)."""
    from tests.factories import PROTOCOL_DIR
    from trials.protocol_file import parse_protocol
    from trials.services import load_protocol

    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text(encoding="utf-8")
    head, rest = text.split("eligibility:\n", 1)
    tail = rest[rest.index("dosing:") :]
    text = head.replace("code: LDIL2-RP", "code: LDIL2-AGE") + criteria_yaml + tail
    version, _created = load_protocol(parse_protocol(text, source="age.yaml"), activate=True)
    return version.study


def test_the_age_criterion_is_the_one_the_protocol_declares_whatever_its_language(db):
    study = _protocol_with_criteria(
        'eligibility:\n  - {id: I1, kind: inclusion, text: "年龄（岁）", type: age, min: 18}\n'
    )
    coordinator = staff(study, "carla", Role.COORDINATOR)
    participant = screened(study, coordinator, year_of_birth=1985)
    with pytest.raises(ValidationError) as refused:
        services.record_eligibility(
            participant=participant, answers={"I1": 34}, assessed_on=ON, user=coordinator
        )
    assert refused.value.message_dict["I1"] == [
        "Born in 1985, the participant is 40 or 41 on 2026-01-05, not 34."
    ]
    assessment = services.record_eligibility(
        participant=participant, answers={}, assessed_on=ON, user=coordinator
    )
    assert assessment.answers == {"I1": 41}


def test_a_number_criterion_about_another_age_is_answered_as_typed(db):
    study = _protocol_with_criteria(
        "eligibility:\n"
        '  - {id: I1, kind: inclusion, text: "Age (years)", type: age, min: 18}\n'
        '  - {id: I2, kind: inclusion, text: "Age at diagnosis (years)", type: number,'
        " max: 40}\n"
    )
    coordinator = staff(study, "carla", Role.COORDINATOR)
    participant = screened(study, coordinator, year_of_birth=1985)
    assessment = services.record_eligibility(
        participant=participant, answers={"I2": 30}, assessed_on=ON, user=coordinator
    )
    assert assessment.answers == {"I1": 41, "I2": 30}
    assert assessment.eligible
