"""Once signed, a page shows the signature's manifestation (21 CFR Part 11 §11.50): the
signer's printed name, the date and time in the site's time zone, and the meaning, in
place of the sign box. The AE page and the eligibility page share one partial."""

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from patients import services as journey
from safety import services
from signatures.models import Signature
from tests.patients.journey_helpers import RP_YES, TODAY_ISH
from tests.safety.helpers_safety import build_cast, report, sae_fields


@pytest.fixture
def cast(db):
    cast = build_cast()
    cast.investigator.first_name, cast.investigator.last_name = "Ivy", "Zhang"
    cast.investigator.save()
    return cast


def local_time(signature, tz="Asia/Shanghai") -> str:
    return signature.signed_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def manifestation(text: str) -> str:
    assert text.count('class="signature-manifestation') == 1
    return text.split('class="signature-manifestation')[1].split("</div>")[0]


def test_a_signed_adverse_event_shows_who_signed_when_and_meaning_instead_of_the_sign_box(
    cast, client_for
):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    client = client_for(cast.investigator)
    response = client.post(
        reverse("safety:sign", args=[adverse_event.pk]),
        {"password": cast.password, "confirm": "on", "row_version": adverse_event.row_version},
    )
    assert response.status_code == 302
    text = client.get(response.url).content.decode()
    assert 'id="sign-form"' not in text
    shown = manifestation(text)
    signature = Signature.objects.get()
    assert "Ivy Zhang" in shown
    assert local_time(signature) in shown
    assert f"{local_time(signature)} CST (UTC+08:00)" in shown  # Asia/Shanghai
    assert "Reviewed" in shown


def screened_and_answered(cast):
    participant = journey.screen(
        study=cast.study,
        site=cast.site,
        screening_number="S-900",
        year_of_birth=1985,
        sex="F",
        user=cast.coordinator,
    )
    journey.record_eligibility(
        participant=participant, answers=RP_YES, assessed_on=TODAY_ISH, user=cast.coordinator
    )
    return participant


def test_confirmed_eligibility_shows_the_manifestation_instead_of_the_sign_box(cast, client_for):
    participant = screened_and_answered(cast)
    client = client_for(cast.investigator)
    url = reverse("patients:eligibility", args=[participant.pk])
    assert 'name="sign"' in client.get(url).content.decode()
    response = client.post(url, {"sign": "1", "password": cast.password})
    assert response.status_code == 302
    text = client.get(url).content.decode()
    assert 'name="sign"' not in text
    shown = manifestation(text)
    signature = Signature.objects.get()
    assert "Ivy Zhang" in shown
    assert local_time(signature) in shown
    assert f"{local_time(signature)} CST (UTC+08:00)" in shown  # Asia/Shanghai
    assert "Eligibility confirmed" in shown


def test_a_change_after_signing_brings_the_sign_box_back(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    services.sign_adverse_event(
        adverse_event=adverse_event, user=cast.investigator, password=cast.password
    )
    services.update_adverse_event(
        adverse_event=adverse_event,
        user=cast.coordinator,
        changes={"grade": 4},
        reason="Worsened",
        expected_version=adverse_event.row_version,
    )
    text = client_for(cast.investigator).get(reverse("safety:detail", args=[adverse_event.pk]))
    text = text.content.decode()
    assert 'id="sign-form"' in text
    assert 'class="signature-manifestation' not in text
