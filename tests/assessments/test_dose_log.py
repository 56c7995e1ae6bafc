"""The dose log: given on the planned day or another (with its real date), not given with a
reason, missed doses kept visible, adherence, through the pages and the API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments import dosing
from assessments.models import DoseAdministration
from patients.models import DoseStatus
from tests.assessments.helpers_capture import (
    field_error,
    participant,
    rp_cast,
    site_today,
    typed,
)


@pytest.fixture
def cast(db):
    return rp_cast()


def doses(p):
    return list(p.doses.live().order_by("date"))


def dose_url(p, dose):
    return reverse("assessments:dose", args=[p.pk, dose.pk])


def test_a_dose_given_on_its_day_is_logged_and_the_plan_marked_given(cast, client_for):
    p = participant()
    first = doses(p)[0]
    data = {
        "given": "yes",
        "administered_on": first.date.isoformat(),
        "administered_time": "08:30",
        "actual_dose": "1",
        "lot": "L2301",
        "injection_site": "abdomen_left",
        "local_reaction": "erythema",
    }
    assert client_for(cast.cora).post(dose_url(p, first), data).status_code == 302
    record = DoseAdministration.objects.get()
    assert (record.given, record.administered_on, record.actual_dose, record.unit) == (
        True,
        first.date,
        Decimal("1.000"),
        "MIU",
    )
    assert (record.lot, record.injection_site, record.local_reaction) == (
        "L2301",
        "abdomen_left",
        "erythema",
    )
    assert record.administered_time.strftime("%H:%M") == "08:30"
    first.refresh_from_db()
    assert first.status == DoseStatus.GIVEN


def test_a_dose_given_on_another_day_keeps_its_real_date(cast, client_for):
    p = participant()
    planned = doses(p)[2]
    real = planned.date + timedelta(days=1)
    client = client_for(cast.cora)
    data = {"given": "yes", "administered_on": real.isoformat(), "actual_dose": "1"}
    assert client.post(dose_url(p, planned), data).status_code == 302
    record = DoseAdministration.objects.get()
    assert record.administered_on == real and record.planned_dose.date == planned.date
    assert record.is_off_day
    log = client.get(reverse("assessments:doses", args=[p.pk]))
    states = {d.pk: s for d, s in log.context["rows"]}
    assert states[planned.pk] == "given_other_day"
    assert "given on another day" in log.content.decode()


def test_a_dose_not_given_needs_a_reason_and_stays_visible(cast, client_for):
    p = participant()
    planned = doses(p)[1]
    client = client_for(cast.cora)
    html = client.post(dose_url(p, planned), {"given": "no"}).content.decode()
    assert "Say why the dose was not given." in field_error(html, "reason_not_given")
    assert not DoseAdministration.objects.exists()

    data = {"given": "no", "reason_not_given": "Fever on the day", "lot": "ignored"}
    assert client.post(dose_url(p, planned), data).status_code == 302
    record = DoseAdministration.objects.get()
    assert (record.given, record.reason_not_given, record.lot) == (False, "Fever on the day", "")
    planned.refresh_from_db()
    assert planned.status == DoseStatus.NOT_GIVEN
    log = client.get(reverse("assessments:doses", args=[p.pk])).content.decode()
    assert "Fever on the day" in log


def test_a_past_dose_with_nothing_recorded_shows_as_missed(cast, client_for):
    p = participant()
    log = client_for(cast.cora).get(reverse("assessments:doses", args=[p.pk]))
    states = [state for _dose, state in log.context["rows"]]
    assert states == ["missed"] * 28  # the whole calendar is in the past
    assert "missed: nothing recorded" in log.content.decode()


def test_bad_dose_input_shows_next_to_the_fields_and_keeps_it(cast, client_for):
    p = participant()
    planned = doses(p)[0]
    data = {"given": "yes", "administered_on": planned.date.isoformat(), "actual_dose": "0"}
    html = client_for(cast.cora).post(dose_url(p, planned), data).content.decode()
    assert "must be more than 0" in field_error(html, "actual_dose")
    assert typed(html, "actual_dose") == "0"
    data = {"given": "yes", "administered_on": "yesterday", "lot": "L1"}
    html = client_for(cast.cora).post(dose_url(p, planned), data).content.decode()
    assert "Enter a valid date." in field_error(html, "administered_on")
    assert typed(html, "administered_on") == "yesterday" and typed(html, "lot") == "L1"
    assert not DoseAdministration.objects.exists()


def test_a_dose_cannot_be_recorded_in_the_future(cast):
    p = participant(baseline=site_today())
    first = doses(p)[0]
    with pytest.raises(ValidationError) as error:
        dosing.record_dose(
            planned_dose=first,
            user=cast.cora,
            given=True,
            administered_on=first.date + timedelta(days=1),
        )
    assert "administered_on" in error.value.message_dict
    later = doses(p)[3]
    with pytest.raises(ValidationError):
        dosing.record_dose(planned_dose=later, user=cast.cora, given=False, reason_not_given="Away")


def test_adherence_counts_given_doses_among_those_due(cast):
    p = participant(baseline=site_today() - timedelta(days=9))  # today is day 10
    planned = doses(p)
    for dose in planned[:4]:
        dosing.record_dose(planned_dose=dose, user=cast.cora, given=True, administered_on=dose.date)
    dosing.record_dose(planned_dose=planned[4], user=cast.cora, given=False, reason_not_given="Ill")
    result = dosing.adherence(doses(p), site_today())
    # Due so far: days 1-5 and 8-10 (five days a week from day 1).
    assert (result.given, result.due, result.planned) == (4, 8, 28)
    assert result.percent == Decimal("50.0")


def test_no_dose_due_means_no_adherence_yet(cast):
    result = dosing.adherence([], site_today())
    assert result.percent is None


def test_a_recorded_dose_is_corrected_with_a_reason(cast):
    p = participant()
    first = doses(p)[0]
    dosing.record_dose(planned_dose=first, user=cast.cora, given=True, administered_on=first.date)
    with pytest.raises(ValidationError) as error:
        dosing.record_dose(
            planned_dose=first,
            user=cast.cora,
            given=False,
            reason_not_given="x",
            expected_version=1,
        )
    assert "reason_for_change" in error.value.message_dict
    dosing.record_dose(
        planned_dose=first,
        user=cast.cora,
        given=False,
        reason_not_given="Vial broken, not injected",
        expected_version=1,
        reason="Wrong dose line",
    )
    first.refresh_from_db()
    assert first.status == DoseStatus.NOT_GIVEN
    assert DoseAdministration.objects.get().row_version == 2


def test_monitors_read_and_outsiders_see_nothing(cast, client_for):
    p = participant()
    first = doses(p)[0]
    data = {"given": "yes", "administered_on": first.date.isoformat()}
    molly = client_for(cast.molly)
    assert molly.get(reverse("assessments:doses", args=[p.pk])).status_code == 200
    assert molly.post(dose_url(p, first), data).status_code == 403
    for user in (cast.otto, cast.charlie):
        client = client_for(user)
        assert client.get(reverse("assessments:doses", args=[p.pk])).status_code == 404
        assert client.post(dose_url(p, first), data).status_code == 404
    assert not DoseAdministration.objects.exists()


# -- API ----------------------------------------------------------------------------------


def post_dose(client, p, body):
    return client.post(reverse("api-doses", args=[p.pk]), body, content_type="application/json")


def test_the_api_records_a_dose_and_answers_adherence(cast, client_for):
    p = participant()
    first = doses(p)[0]
    body = {"date": first.date.isoformat(), "given": True, "dose": "1", "lot": "L9"}
    response = post_dose(client_for(cast.cora), p, body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["given"] is True and data["status"] == "given" and data["lot"] == "L9"
    assert data["planned_date"] == first.date.isoformat()
    assert data["adherence"] == {"given": 1, "due": 28, "planned": 28, "percent": "3.6"}


def test_the_api_records_a_dose_given_off_its_day_with_planned_date(cast, client_for):
    p = participant()
    planned = doses(p)[4]  # a Friday
    real = planned.date + timedelta(days=1)
    client = client_for(cast.cora)
    response = post_dose(client, p, {"date": real.isoformat(), "given": True})
    assert response.status_code == 400
    assert "date" in response.json()["errors"]
    body = {"date": real.isoformat(), "planned_date": planned.date.isoformat(), "given": True}
    response = post_dose(client, p, body)
    assert response.status_code == 201
    assert response.json()["date"] == real.isoformat()
    assert DoseAdministration.objects.get().actual_dose == Decimal("1.000")  # planned dose


def test_the_api_refuses_a_dose_not_given_without_a_reason(cast, client_for):
    p = participant()
    body = {"date": doses(p)[0].date.isoformat(), "given": False}
    response = post_dose(client_for(cast.cora), p, body)
    assert response.status_code == 400
    assert response.json() == {"errors": {"reason": ["Say why the dose was not given."]}}


def test_the_api_applies_the_same_permissions(cast, client_for):
    p = participant()
    body = {"date": doses(p)[0].date.isoformat(), "given": True}
    assert post_dose(client_for(cast.molly), p, body).status_code == 403
    assert post_dose(client_for(cast.otto), p, body).status_code == 404
    assert post_dose(client_for(cast.charlie), p, body).status_code == 404
    assert not DoseAdministration.objects.exists()
