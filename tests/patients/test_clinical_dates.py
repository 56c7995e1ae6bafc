"""One rule for every clinical date (patients.clinical_dates), on pages, API and services.

A date typed as 0001-01-01 or 9999-12-31 is refused next to its field wherever it is
entered (never saved, never a 500); so is an event in the future of the site's today, or
before the participant consented, or before the study began.
"""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments import services as capture
from assessments.models import TregPanel
from patients import services
from patients.models import Consent, Participant
from safety import services as safety_services
from tests.assessments.helpers_capture import (
    HAMD_ZERO,
    participant,
    rp_cast,
    rpdai,
    site_today,
    treg,
    visit,
)
from tests.factories import PROTOCOL_DIR
from tests.patients.journey_helpers import (
    RP_YES,
    eligible_and_confirmed,
    screened,
    staff,
)
from tests.safety.helpers_safety import ae_fields
from trials.models import Role

EDGES = ["0001-01-01", "9999-12-31"]


@pytest.fixture
def cast(db):
    return rp_cast()


def consented(p, user, day):
    return Consent.objects.create(
        participant=p, protocol_version=p.protocol_version, consent_date=day, obtained_by=user
    )


# -- the journey -------------------------------------------------------------------------


def confirmed_screening(cast):
    p = screened(cast.study, cast.cora, site=cast.site)
    investigator = staff(cast.study, "ines", Role.INVESTIGATOR)  # signs with a password
    eligible_and_confirmed(p, cast.cora, investigator, RP_YES)
    return p


@pytest.mark.parametrize(
    ("consent", "baseline", "field"),
    [
        ("0001-01-01", "2026-01-05", "consent_date"),
        ("2026-01-02", "9999-12-31", "baseline_date"),
        ("2026-01-02", "0001-01-01", "baseline_date"),
    ],
)
def test_enrolment_refuses_edge_dates_with_a_field_message(
    cast, client_for, consent, baseline, field
):
    p = confirmed_screening(cast)
    response = client_for(cast.cora).post(
        reverse("api-enrol", args=[p.pk]),
        {"consent_date": consent, "baseline_date": baseline},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    p.refresh_from_db()
    assert p.status == "screening" and not p.consents.exists()


def test_a_consent_before_the_study_began_is_refused(cast):
    p = screened(cast.study, cast.cora, site=cast.site)
    with pytest.raises(services.JourneyError) as refused:
        services.record_consent(participant=p, consent_date=date(2010, 5, 1), user=cast.cora)
    assert refused.value.field == "consent_date"
    assert "2019-11-01" in str(refused.value)


@pytest.mark.parametrize("day", EDGES)
def test_the_eligibility_api_refuses_an_edge_assessment_date(cast, client_for, day):
    p = screened(cast.study, cast.cora, site=cast.site)
    response = client_for(cast.cora).post(
        reverse("api-eligibility", args=[p.pk]),
        {"answers": RP_YES, "assessed_on": day},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "assessed_on" in response.json()["errors"]


def test_the_eligibility_page_refuses_a_future_assessment_date_next_to_the_field(cast, client_for):
    p = screened(cast.study, cast.cora, site=cast.site)
    answers = {f"c_{code}": value for code, value in RP_YES.items()}
    tomorrow = site_today() + timedelta(days=1)
    response = client_for(cast.cora).post(
        reverse("patients:eligibility", args=[p.pk]),
        {"answers": "1", "assessed_on": tomorrow.isoformat(), **answers},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["assessed_on"]


@pytest.mark.parametrize("day", EDGES)
def test_the_reconsent_service_refuses_an_edge_consent_date(cast, day):
    p = participant()
    with pytest.raises(services.JourneyError):
        services.reconsent(
            participant=p,
            version=p.protocol_version,
            consent_date=date.fromisoformat(day),
            user=cast.cora,
        )


# -- visits and forms --------------------------------------------------------------------


@pytest.mark.parametrize("form", ["RPDAI", "TREG", "STEROID"])
@pytest.mark.parametrize("day", EDGES)
def test_a_visit_form_refuses_an_edge_visit_date_through_the_api(cast, client_for, form, day):
    p = participant()
    answers = {"RPDAI": rpdai(), "TREG": treg(), "STEROID": {"drug": "prednisone"}}[form]
    if form == "STEROID":
        answers["mg_per_day"] = "10"
    response = client_for(cast.cora).post(
        reverse("api-visit-form", args=[p.pk, "W4", form]),
        {"visit_date": day, "answers": answers},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "visit_date" in response.json()["errors"]
    assert visit(p, "W4").actual_date is None


def mood_like_version(form_code: str):
    """The MOOD design with `form_code` where it has HAM-D (as the instrument tests do)."""
    from trials.protocol_file import parse_protocol
    from trials.services import load_protocol

    text = (PROTOCOL_DIR / "ld-il2-mood.yaml").read_text(encoding="utf-8")
    if form_code != "HAMD17":
        text = text.replace("HAMD17", form_code).replace("LDIL2-MOOD", f"LDIL2-{form_code}")
    text = text.replace("blinding: double", "blinding: open")
    version, _created = load_protocol(parse_protocol(text), activate=True)
    return version


@pytest.mark.parametrize("form", ["HAMD17", "PHQ9", "SLEDAI2K"])
@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31)])
def test_the_instrument_forms_refuse_an_edge_visit_date(cast, form, day):
    p = participant(version=mood_like_version(form))
    user = staff(p.study, "mara", Role.COORDINATOR)
    with pytest.raises(ValidationError) as refused:
        capture.capture_form(
            participant=p,
            visit=visit(p, "W1"),
            form_code=form,
            visit_date=day,
            answers=HAMD_ZERO if form == "HAMD17" else {},
            user=user,
        )
    assert "visit_date" in refused.value.message_dict
    assert visit(p, "W1").actual_date is None


def test_a_visit_before_the_participants_consent_is_refused(cast):
    p = participant()
    consented(p, cast.cora, p.baseline_date + timedelta(days=10))
    with pytest.raises(ValidationError) as refused:
        capture.capture_form(
            participant=p,
            visit=visit(p, "W0"),
            form_code="RPDAI",
            visit_date=p.baseline_date,
            answers=rpdai(),
            user=cast.cora,
        )
    assert "consent" in refused.value.message_dict["visit_date"][0]


@pytest.mark.parametrize(
    "sample_date", [date(1990, 6, 1), site_today() + timedelta(days=1), date(1, 1, 1)]
)
def test_a_treg_sample_date_in_1990_or_the_future_is_refused(cast, sample_date):
    p = participant()
    w4 = visit(p, "W4")
    with pytest.raises(ValidationError) as refused:
        capture.capture_form(
            participant=p,
            visit=w4,
            form_code="TREG",
            visit_date=w4.target_date,
            answers={**treg(), "sample_date": sample_date.isoformat()},
            user=cast.cora,
        )
    assert "sample_date" in refused.value.message_dict
    assert not TregPanel.objects.exists()


@pytest.mark.parametrize("day", [date(1, 1, 1), date(9999, 12, 31)])
def test_an_unscheduled_visit_on_an_edge_date_is_refused_not_a_500(cast, day):
    p = participant()
    with pytest.raises(ValidationError) as refused:
        capture.add_unscheduled_visit(participant=p, visit_date=day, reason="Flare", user=cast.cora)
    assert "visit_date" in refused.value.message_dict
    assert not p.visits.filter(is_unscheduled=True).exists()


def test_the_unscheduled_visit_page_shows_the_refusal_next_to_the_date(cast, client_for):
    p = participant()
    response = client_for(cast.cora).post(
        reverse("assessments:unscheduled_visit", args=[p.pk]),
        {"visit_date": "0001-01-01", "reason": "Flare"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["visit_date"]


@pytest.mark.parametrize("day", EDGES)
def test_the_dose_api_refuses_an_edge_date(cast, client_for, day):
    p = participant()
    response = client_for(cast.cora).post(
        reverse("api-doses", args=[p.pk]),
        {"date": day, "planned_date": p.doses.first().date.isoformat(), "given": True},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content


# -- adverse events ----------------------------------------------------------------------


def test_an_ae_onset_before_consent_is_refused(cast):
    p = participant()
    consented(p, cast.cora, p.baseline_date)
    before = p.baseline_date - timedelta(days=3)
    with pytest.raises(ValidationError) as refused:
        safety_services.report_adverse_event(
            participant=p, user=cast.cora, **ae_fields(onset_date=before)
        )
    assert "onset_date" in refused.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("awareness_at", "0001-01-01T00:00:00"),
        ("awareness_at", "9999-12-31T23:59:59"),
        ("onset_date", "0001-01-01"),
        ("end_date", "9999-12-31"),
    ],
)
def test_the_ae_api_answers_an_edge_date_with_a_field_message(cast, client_for, field, value):
    p = participant()
    body = {
        "term": "Fever",
        "onset_date": p.baseline_date.isoformat(),
        "grade": 2,
        "serious": False,
        "relationship": "possible",
        "expectedness": "expected",
        "action_taken": "DOSE NOT CHANGED",
        "outcome": "NOT RECOVERED/NOT RESOLVED",
        "awareness_at": f"{p.baseline_date.isoformat()}T10:00:00",
        field: value,
    }
    if field == "end_date":
        body.update(ongoing=False, outcome="RECOVERED/RESOLVED")
    response = client_for(cast.cora).post(
        reverse("api-participant-adverse-events", args=[p.pk]),
        body,
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00", "9999-12-31T23:59:59"])
def test_the_ae_reports_api_answers_an_edge_datetime_with_a_field_message(cast, client_for, value):
    p = participant()
    adverse_event = safety_services.report_adverse_event(
        participant=p,
        user=cast.cora,
        **ae_fields(
            onset_date=p.baseline_date,
            awareness_at=ae_fields()["awareness_at"].replace(
                year=p.baseline_date.year, month=p.baseline_date.month, day=p.baseline_date.day
            ),
            serious=True,
            seriousness=["hospitalisation"],
        ),
    )
    response = client_for(cast.ivy).post(
        reverse("api-adverse-event-reports", args=[adverse_event.pk]),
        {"sponsor_reported_at": value},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "sponsor_reported_at" in response.json()["errors"]


# -- what the participant page plots ------------------------------------------------------


def test_the_plots_leave_out_a_sample_dated_outside_the_participants_study_period(cast, client_for):
    p = participant()
    consented(p, cast.cora, p.baseline_date)
    capture.capture_form(
        participant=p,
        visit=visit(p, "W4"),
        form_code="TREG",
        visit_date=visit(p, "W4").target_date,
        answers=treg(),
        user=cast.cora,
    )
    # A legacy row dated before consent (imported before the rule existed).
    TregPanel.objects.update(sample_date=date(1990, 6, 1))
    page = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk]))
    from assessments.templatetags.capture_tags import panel_context

    plots = panel_context(Participant.objects.get(pk=p.pk), cast.cora)["plots"]
    assert plots["treg"]["pct"] == []
    assert page.status_code == 200


def test_an_ae_follow_up_through_the_api_refuses_an_edge_end_date(cast, client_for):
    p = participant()
    adverse_event = safety_services.report_adverse_event(
        participant=p,
        user=cast.cora,
        **ae_fields(
            onset_date=p.baseline_date,
            awareness_at=ae_fields()["awareness_at"].replace(
                year=p.baseline_date.year, month=p.baseline_date.month, day=p.baseline_date.day
            ),
        ),
    )
    response = client_for(cast.cora).patch(
        reverse("api-adverse-event", args=[adverse_event.pk]),
        {
            "end_date": "0001-01-01",
            "ongoing": False,
            "outcome": "RECOVERED/RESOLVED",
            "row_version": adverse_event.row_version,
            "reason_for_change": "Resolved",
        },
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "end_date" in response.json()["errors"]


# -- the API's one exception handler -------------------------------------------------------


@pytest.mark.parametrize("error", [OverflowError("date value out of range"), "data"])
def test_an_overflow_anywhere_in_an_api_view_is_a_400_naming_the_edge_date_field(db, error):
    from django.db import DataError
    from rest_framework.decorators import api_view, permission_classes
    from rest_framework.permissions import AllowAny
    from rest_framework.test import APIRequestFactory

    @api_view(["POST"])
    @permission_classes([AllowAny])
    def overflowing(request):
        raise DataError("smallint out of range") if error == "data" else error

    request = APIRequestFactory().post(
        "/", {"answers": {"sample_date": "0001-01-01"}, "note": "x"}, format="json"
    )
    response = overflowing(request)
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["sample_date"]
    assert "between 1900-01-01 and 2100-12-31" in response.data["errors"]["sample_date"][0]


def test_an_overflow_without_an_edge_date_stays_a_server_error(db):
    from rest_framework.decorators import api_view, permission_classes
    from rest_framework.permissions import AllowAny
    from rest_framework.test import APIRequestFactory

    @api_view(["POST"])
    @permission_classes([AllowAny])
    def overflowing(request):
        raise OverflowError("a bug, not a typo")

    with pytest.raises(OverflowError):
        overflowing(APIRequestFactory().post("/", {"day": "2026-01-05"}, format="json"))


# -- the bounds read with the participant (with_date_bounds) -------------------------------


@pytest.mark.parametrize("with_consent", [True, False])
def test_the_bounds_read_with_the_participant_are_those_asked_for_without_a_query(
    cast, with_consent, django_assert_num_queries
):
    """A page or a save reading the participant `with_date_bounds` checks dates and plots
    the study period as a plain read would, asking the database nothing more."""
    from patients.clinical_dates import consent_bound, study_period, with_date_bounds

    p = participant()  # no consent recorded: the study's start bounds the period
    if with_consent:
        consented(p, cast.cora, p.baseline_date - timedelta(days=3))
    plain = Participant.objects.select_related("site", "study").get(pk=p.pk)
    read = with_date_bounds(Participant.objects.select_related("site", "study")).get(pk=p.pk)
    expected_bound, expected_period = consent_bound(plain), study_period(plain)
    with django_assert_num_queries(0):
        assert consent_bound(read) == expected_bound
        assert study_period(read) == expected_period
    assert (expected_bound is not None) == with_consent
