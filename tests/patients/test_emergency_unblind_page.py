"""The emergency-unblind page, as the investigator uses it and as others are refused.

Only a blinded investigator of the participant's site, in a blinded study, reaches the
form; anyone else is refused before it, on a styled page (not a bare 403).
"""

from datetime import date

import pytest
from django.urls import reverse

from patients.models import Unblinding
from tests.factories import PASSWORD
from tests.patients.journey_helpers import Role, enrolled_in_mood, staff


@pytest.fixture
def mood(db):
    team = enrolled_in_mood()
    return team | {"url": reverse("patients:unblind", args=[team["participant"].pk])}


def test_the_investigator_signs_with_a_reason_and_then_sees_the_arm(mood, client_for):
    client = client_for(mood["investigator"])
    page = client.get(mood["url"])
    assert page.status_code == 200
    assert "Sign and unblind" in page.content.decode()

    response = client.post(mood["url"], {"password": PASSWORD, "reason": "Anaphylaxis"})

    participant = mood["participant"]
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:participant", args=[participant.pk])
    unblinding = Unblinding.objects.get(participant=participant)
    assert unblinding.user == mood["investigator"] and unblinding.reason == "Anaphylaxis"
    detail = client.get(response["Location"]).content.decode()
    assert participant.arm.name in detail


def test_a_wrong_password_is_shown_on_the_password_field_and_nothing_is_unblinded(mood, client_for):
    client = client_for(mood["investigator"])

    response = client.post(mood["url"], {"password": "not-my-password", "reason": "Anaphylaxis"})

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not Unblinding.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_empty_reason_is_refused_on_the_reason_field(mood, client_for, reason):
    client = client_for(mood["investigator"])

    response = client.post(mood["url"], {"password": PASSWORD, "reason": reason})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not Unblinding.objects.exists()


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_someone_who_is_not_an_investigator_is_refused_before_the_form(mood, client_for, who):
    client = client_for(mood[who])

    page = client.get(mood["url"])
    posted = client.post(mood["url"], {"password": PASSWORD, "reason": "Curious"})

    for response in (page, posted):
        body = response.content.decode()
        assert response.status_code == 403
        assert "Sign and unblind" not in body
        assert 'class="navbar' in body  # the site's own page, not a bare 403
        assert "investigator" in body  # it says why
    assert not Unblinding.objects.exists()


def test_an_open_label_study_has_no_unblinding_form(rp_participant, client_for):
    participant, investigator = rp_participant
    client = client_for(investigator)

    response = client.get(reverse("patients:unblind", args=[participant.pk]))

    assert response.status_code == 403
    assert "Sign and unblind" not in response.content.decode()


@pytest.fixture
def rp_participant(db):
    from tests.factories import enrolled_participant

    participant = enrolled_participant(baseline=date(2026, 1, 5))
    investigator = staff(participant.study, "ivo", Role.INVESTIGATOR)
    return participant, investigator
