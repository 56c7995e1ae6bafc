"""API v1 for instruments and visit forms (docs/API.md, "Endpoints")."""

import pytest
from django.urls import reverse

from accounts.tokens import issue_token
from assessments.models import InstrumentAlert, InstrumentResponse, SteroidDose, TregPanel
from tests.assessments.helpers_capture import (
    HAMD_ZERO,
    PHQ_ZERO,
    participant,
    phq9_version,
    rp_cast,
    rpdai,
    treg,
    visit,
)
from tests.factories import MembershipFactory, UserFactory, load_demo_protocol
from trials.models import Role


@pytest.fixture
def cast(db):
    return rp_cast()


def post_form(client, p, code, form, body):
    url = reverse("api-visit-form", args=[p.pk, code, form])
    return client.post(url, body, content_type="application/json")


def test_the_instrument_list_describes_items_ranges_and_weights(cast, client_for):
    data = client_for(cast.molly).get(reverse("api-instruments")).json()
    assert [i["code"] for i in data] == ["HAMD17", "PHQ9", "RPDAI", "SLEDAI2K"]
    rpdai_items = {item["code"]: item for item in data[2]["items"]}
    assert rpdai_items["AURIC"] == {
        "code": "AURIC",
        "label": "Auricular chondritis (uni- or bilateral)",
        "type": "boolean",
        "min": None,
        "max": None,
        "weight": 9,
    }
    hamd = client_for(cast.molly).get(reverse("api-instrument", args=["HAMD17"])).json()
    h1 = hamd["items"][0]
    assert (h1["code"], h1["type"], h1["min"], h1["max"]) == ("H1", "integer", 0, 4)


def test_an_unknown_instrument_is_404_and_anonymous_users_are_refused(cast, client_for):
    from django.test import Client

    assert client_for(cast.molly).get(reverse("api-instrument", args=["NOPE"])).status_code == 404
    assert Client().get(reverse("api-instruments")).status_code in (401, 403)


def test_posting_rpdai_scores_it_and_dates_the_visit(cast, client_for):
    p = participant()
    w0 = visit(p, "W0")
    body = {"visit_date": w0.target_date.isoformat(), "answers": rpdai(AURIC=True, NASAL=True)}
    response = post_form(client_for(cast.cora), p, "W0", "RPDAI", body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["form"], data["total"], data["visit"], data["row_version"]) == (
        "RPDAI",
        18,
        "W0",
        1,
    )
    assert data["details"]["complete_response"] is False
    assert data["out_of_window"] is False
    w0.refresh_from_db()
    assert w0.actual_date == w0.target_date


def test_a_total_cannot_be_sent(cast, client_for):
    p = participant()
    body = {"visit_date": p.baseline_date.isoformat(), "answers": rpdai() | {"total": 0}}
    response = post_form(client_for(cast.cora), p, "W0", "RPDAI", body)
    assert response.status_code == 400
    assert "total" in response.json()["errors"]
    assert not InstrumentResponse.objects.exists()


def test_bad_answers_are_400_keyed_by_item(db, client_for):
    version = load_demo_protocol("ld-il2-mood.yaml")
    p = participant(version=version)
    user = UserFactory(username="mario", password=None)
    MembershipFactory(user=user, study=version.study, site=p.site, role=Role.COORDINATOR)
    body = {"visit_date": p.baseline_date.isoformat(), "answers": HAMD_ZERO | {"H1": 9, "H16B": 1}}
    response = post_form(client_for(user), p, "W0", "HAMD17", body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["H1"] == ["Must be between 0 and 4."]
    assert "non_field_errors" in errors and "H16A" in errors
    good = post_form(client_for(user), p, "W0", "HAMD17", body | {"answers": HAMD_ZERO | {"H1": 4}})
    assert good.status_code == 201
    assert (good.json()["total"], good.json()["band"]) == (4, "none")


def test_treg_and_steroid_answer_their_derived_values(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    body = {"visit_date": p.baseline_date.isoformat(), "answers": treg(treg_pct=5.5)}
    data = post_form(client, p, "W0", "TREG", body).json()
    assert data["derived"]["treg_per_ul"] == "44.0"
    assert data["derived"]["treg_tcon_ratio"] == "0.0917"
    assert data["sample_date"] == p.baseline_date.isoformat()
    body = {
        "visit_date": p.baseline_date.isoformat(),
        "answers": {"drug": "Dexamethasone", "mg_per_day": 3, "weight_kg": 50},
    }
    data = post_form(client, p, "W0", "STEROID", body).json()
    assert data["derived"]["prednisone_eq_mg"] == "20.01"
    assert data["derived"]["mg_per_kg_per_day"] == "0.400"
    assert SteroidDose.objects.get().drug == "dexamethasone"
    assert TregPanel.objects.get().treg_pct_of_cd4 == 5.5


def test_treg_rules_are_400_keyed_by_field(cast, client_for):
    p = participant()
    body = {
        "visit_date": p.baseline_date.isoformat(),
        "answers": treg(treg_pct="45", tcon_pct="60") | {"cd4_per_ul": 2000, "colour": "red"},
    }
    errors = post_form(client_for(cast.cora), p, "W0", "TREG", body).json()["errors"]
    assert "cannot add up to more than 100" in errors["treg_pct_of_cd4"][0]
    assert "cannot be more than lymphocytes" in errors["cd4_per_ul"][0]
    assert "colour" in errors
    assert not TregPanel.objects.exists()


def test_a_second_post_needs_the_version_and_a_reason(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    body = {"visit_date": p.baseline_date.isoformat(), "answers": rpdai()}
    assert post_form(client, p, "W0", "RPDAI", body).status_code == 201
    assert (
        post_form(client, p, "W0", "RPDAI", body | {"answers": rpdai(CRP=True)}).status_code == 409
    )
    no_reason = post_form(
        client, p, "W0", "RPDAI", body | {"answers": rpdai(CRP=True), "row_version": 1}
    )
    assert no_reason.status_code == 400
    assert "reason_for_change" in no_reason.json()["errors"]
    fixed = post_form(
        client,
        p,
        "W0",
        "RPDAI",
        body | {"answers": rpdai(CRP=True), "row_version": 1, "reason_for_change": "CRP result"},
    )
    assert fixed.status_code == 200
    assert (fixed.json()["total"], fixed.json()["row_version"]) == (3, 2)


def test_the_api_applies_the_page_permissions(cast, client_for):
    p = participant()
    body = {"visit_date": p.baseline_date.isoformat(), "answers": rpdai()}
    assert post_form(client_for(cast.molly), p, "W0", "RPDAI", body).status_code == 403
    assert post_form(client_for(cast.otto), p, "W0", "RPDAI", body).status_code == 404
    assert post_form(client_for(cast.charlie), p, "W0", "RPDAI", body).status_code == 404
    assert post_form(client_for(cast.cora), p, "W0", "NOPE", body).status_code == 404
    assert post_form(client_for(cast.cora), p, "W9", "RPDAI", body).status_code == 404
    not_here = post_form(client_for(cast.cora), p, "W0", "HAMD17", body)
    assert not_here.status_code == 400 and "form" in not_here.json()["errors"]
    assert not InstrumentResponse.objects.exists()


def test_token_authentication_works(cast, client):
    p = participant()
    _token, key = issue_token(user=cast.cora, name="test")
    body = {"visit_date": p.baseline_date.isoformat(), "answers": rpdai()}
    response = client.post(
        reverse("api-visit-form", args=[p.pk, "W0", "RPDAI"]),
        body,
        content_type="application/json",
        headers={"Authorization": f"Token {key}"},
    )
    assert response.status_code == 201


def test_a_phq9_self_harm_answer_is_stored_as_an_alert(db, client_for):
    version = phq9_version()
    p = participant(version=version)
    user = UserFactory(username="nina", password=None)
    MembershipFactory(user=user, study=version.study, site=p.site, role=Role.COORDINATOR)
    body = {"visit_date": p.baseline_date.isoformat(), "answers": PHQ_ZERO | {"P9": 3, "P10": 1}}
    data = post_form(client_for(user), p, "W0", "PHQ9", body).json()
    assert data["alerts"] == ["self_harm"]
    assert data["details"] == {"difficulty": 1}
    assert InstrumentAlert.objects.filter(participant=p, code="self_harm").count() == 1
