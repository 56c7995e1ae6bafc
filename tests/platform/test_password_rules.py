"""One rule for passwords wherever they are typed: compared exactly as typed (as at log-in),
on every signing page and endpoint; and a new password must differ from the current one."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from patients import services as journey
from signatures.models import Signature
from tests.factories import PASSWORD
from tests.patients.journey_helpers import RP_YES, rp_study, screened, staff
from tests.safety.helpers_safety import build_cast, report, sae_fields
from trials.models import Role

SPACED = "  spaced passphrase  "


def test_changing_to_the_same_password_is_refused_on_the_field(alice, client_for):
    response = client_for(alice).post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"] == [
        "Your new password must differ from your current password."
    ]


@pytest.fixture
def eligibility(db):
    study = rp_study()
    coordinator = staff(study, "carla", Role.COORDINATOR)
    investigator = staff(study, "ines", Role.INVESTIGATOR)
    investigator.set_password(SPACED)
    investigator.save()
    participant = screened(study, coordinator)
    journey.record_eligibility(
        participant=participant, answers=RP_YES, assessed_on=date(2026, 1, 2), user=coordinator
    )
    return participant, investigator


def test_log_in_takes_the_password_exactly_as_typed(eligibility):
    def log_in(password):
        return Client().post(reverse("login"), {"username": "ines", "password": password})

    assert log_in(SPACED.strip()).status_code == 200  # the form again, with its error
    assert log_in(SPACED).status_code == 302


def sign_page(client, participant, password):
    url = reverse("patients:eligibility", args=[participant.pk])
    return client.post(url, {"sign": "1", "password": password})


def sign_api(client, participant, password):
    url = reverse("api-eligibility-sign", args=[participant.pk])
    body = {"password": password, "meaning": "eligibility confirmed"}
    return client.post(url, body, content_type="application/json")


@pytest.mark.parametrize("sign", [sign_page, sign_api], ids=["page", "api"])
def test_eligibility_is_signed_with_the_password_exactly_as_typed(eligibility, client_for, sign):
    participant, investigator = eligibility
    client = client_for(investigator)
    sign(client, participant, SPACED.strip())
    assert not Signature.objects.exists()
    sign(client, participant, SPACED)
    assert Signature.objects.valid().count() == 1


@pytest.mark.parametrize("how", ["page", "api"])
def test_an_adverse_event_is_signed_with_the_password_exactly_as_typed(db, client_for, how):
    cast = build_cast()
    cast.investigator.set_password(SPACED)
    cast.investigator.save()
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    client = client_for(cast.investigator)

    def sign(password):
        if how == "api":
            url = reverse("api-adverse-event-sign", args=[adverse_event.pk])
            body = {"password": password, "meaning": "reviewed"}
            return client.post(url, body, content_type="application/json")
        adverse_event.refresh_from_db()
        body = {"confirm": "on", "password": password, "row_version": adverse_event.row_version}
        return client.post(reverse("safety:sign", args=[adverse_event.pk]), body)

    sign(SPACED.strip())
    assert not Signature.objects.exists()
    sign(SPACED)
    assert Signature.objects.valid().count() == 1
