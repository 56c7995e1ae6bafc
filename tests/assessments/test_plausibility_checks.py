"""Implausible magnitudes: hard limits refuse the impossible, soft limits warn and must be
confirmed, and a confirmation is stored on the record (so the audit trail names who
confirmed which check). The same checks run for the pages and the API (dose, Treg panel,
steroid dose)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import DoseAdministration, SteroidDose, TregPanel
from audit.history import history_for
from tests.assessments.helpers_capture import field_error, participant, rp_cast, treg, typed


@pytest.fixture
def cast(db):
    return rp_cast()


def post_form(client, p, form, answers, **extra):
    url = reverse("api-visit-form", args=[p.pk, "W0", form])
    body = {"visit_date": p.baseline_date.isoformat(), "answers": answers, **extra}
    return client.post(url, body, content_type="application/json")


def post_dose(client, p, **body):
    first = p.doses.live().order_by("date").first()
    body = {"date": first.date.isoformat(), "given": True, **body}
    return client.post(reverse("api-doses", args=[p.pk]), body, content_type="application/json")


def steroid(mg, weight=None):
    answers = {"drug": "prednisone", "mg_per_day": mg}
    if weight is not None:
        answers["weight_kg"] = weight
    return answers


# -- hard limits: refused, with the field named -------------------------------------------


def test_a_steroid_dose_of_5000_mg_a_day_is_refused(cast, client_for):
    response = post_form(client_for(cast.cora), participant(), "STEROID", steroid(5000))
    assert response.status_code == 400
    assert "mg_per_day" in response.json()["errors"]
    assert not SteroidDose.objects.exists()


def test_a_body_weight_of_900_kg_is_refused_even_when_confirmed(cast, client_for):
    p = participant()
    response = post_form(
        client_for(cast.cora), p, "STEROID", steroid(10, 900), confirm=["weight_kg"]
    )
    assert response.status_code == 400
    assert "weight_kg" in response.json()["errors"]
    assert not SteroidDose.objects.exists()


def test_an_absurd_lymphocyte_count_is_refused(cast, client_for):
    answers = treg(lymphocytes=2_000_000, cd4=800)
    response = post_form(client_for(cast.cora), participant(), "TREG", answers)
    assert response.status_code == 400
    assert "lymphocytes_per_ul" in response.json()["errors"]
    assert not TregPanel.objects.exists()


def test_a_100_miu_dose_when_1_miu_is_planned_is_refused(cast, client_for):
    response = post_dose(client_for(cast.cora), participant(), dose="100", confirm=["dose"])
    assert response.status_code == 400
    assert "planned" in " ".join(response.json()["errors"]["dose"])
    assert not DoseAdministration.objects.exists()


# -- soft limits: a warning to confirm ------------------------------------------------------


def test_an_unconfirmed_high_steroid_dose_answers_400_naming_the_field_and_its_warning(
    cast, client_for
):
    response = post_form(client_for(cast.cora), participant(), "STEROID", steroid(300))
    assert response.status_code == 400
    data = response.json()
    assert list(data["warnings"]) == ["mg_per_day"]
    assert data["warnings"]["mg_per_day"][0]
    assert not SteroidDose.objects.exists()


def test_a_confirmed_high_steroid_dose_is_saved_and_the_confirmation_audited(cast, client_for):
    p = participant()
    response = post_form(client_for(cast.cora), p, "STEROID", steroid(300), confirm=["mg_per_day"])
    assert response.status_code == 201, response.json()
    record = SteroidDose.objects.get()
    assert [c["item"] for c in record.confirmed_checks] == ["mg_per_day"]
    assert record.confirmed_checks[0]["check"] == "STEROID.mg_per_day.soft_range"
    entry = history_for(record)[0]
    assert entry.user == "cora"
    assert any(c.field == "confirmed_checks" and c.new for c in entry.changes)


def test_an_unusual_lymphocyte_count_needs_confirmation(cast, client_for):
    client, p = client_for(cast.cora), participant()
    answers = treg(lymphocytes=9000, cd4=800)
    assert list(post_form(client, p, "TREG", answers).json()["warnings"]) == ["lymphocytes_per_ul"]
    confirmed = post_form(client, p, "TREG", answers, confirm=["lymphocytes_per_ul"])
    assert confirmed.status_code == 201


def test_a_dose_other_than_planned_needs_confirmation(cast, client_for):
    client, p = client_for(cast.cora), participant()
    response = post_dose(client, p, dose="2")
    assert response.status_code == 400
    assert list(response.json()["warnings"]) == ["dose"]
    assert not DoseAdministration.objects.exists()
    assert post_dose(client, p, dose="2", confirm=["dose"]).status_code == 201
    record = DoseAdministration.objects.get()
    assert record.actual_dose == Decimal("2.000")
    assert [c["item"] for c in record.confirmed_checks] == ["actual_dose"]


def test_the_planned_dose_needs_no_confirmation(cast, client_for):
    assert post_dose(client_for(cast.cora), participant(), dose="1").status_code == 201
    assert DoseAdministration.objects.get().confirmed_checks == []


# -- pages --------------------------------------------------------------------------------


def test_the_steroid_page_warns_next_to_the_field_keeps_input_and_saves_once_confirmed(
    cast, client_for
):
    client, p = client_for(cast.cora), participant()
    url = reverse("assessments:visit_form", args=[p.pk, "W0", "STEROID"])
    data = {
        "visit_date": p.baseline_date.isoformat(),
        "drug": "prednisone",
        "mg_per_day": "300",
        "weight_kg": "64",
    }
    html = client.post(url, data).content.decode()
    assert field_error(html, "mg_per_day")
    assert typed(html, "mg_per_day") == "300" and typed(html, "weight_kg") == "64"
    assert 'name="confirm_mg_per_day"' in html
    assert not SteroidDose.objects.exists()
    response = client.post(url, data | {"confirm_mg_per_day": "on"})
    assert response.status_code == 302
    assert SteroidDose.objects.get().mg_per_day == Decimal("300.00")


def test_the_dose_page_refuses_an_absurd_dose_and_asks_to_confirm_an_unplanned_one(
    cast, client_for
):
    client, p = client_for(cast.cora), participant()
    first = p.doses.live().order_by("date").first()
    url = reverse("assessments:dose", args=[p.pk, first.pk])
    data = {"given": "yes", "administered_on": first.date.isoformat(), "actual_dose": "100"}
    html = client.post(url, data).content.decode()
    assert field_error(html, "actual_dose") and typed(html, "actual_dose") == "100"
    assert 'name="confirm_actual_dose"' not in html
    html = client.post(url, data | {"actual_dose": "1.5"}).content.decode()
    assert 'name="confirm_actual_dose"' in html
    assert not DoseAdministration.objects.exists()
    response = client.post(url, data | {"actual_dose": "1.5", "confirm_actual_dose": "on"})
    assert response.status_code == 302
    assert DoseAdministration.objects.get().actual_dose == Decimal("1.500")


def test_a_confirmed_value_is_not_asked_again_when_another_field_is_corrected(cast, client_for):
    client, p = client_for(cast.cora), participant()
    post_form(client, p, "STEROID", steroid(300), confirm=["mg_per_day"])
    record = SteroidDose.objects.get()
    correction = {"row_version": record.row_version, "reason_for_change": "weight found"}
    response = post_form(client, p, "STEROID", steroid(300, 64), **correction)
    assert response.status_code == 200, response.json()
    changed = post_form(
        client, p, "STEROID", steroid(400, 64), row_version=2, reason_for_change="typo"
    )
    assert changed.status_code == 400 and list(changed.json()["warnings"]) == ["mg_per_day"]
    record.refresh_from_db()
    assert (record.mg_per_day, record.confirmed_checks[0]["value"]) == (Decimal("300.00"), "300")
