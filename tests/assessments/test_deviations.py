"""Visits as they happen: out of window is a deviation (never refused), missed visits with a
reason, unscheduled visits; deviations shown, counted and exported."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments import selectors, services
from assessments.models import InstrumentResponse, TregPanel
from audit.history import history_for
from patients.models import VisitStatus
from tests.assessments.helpers_capture import (
    capture,
    field_error,
    participant,
    rp_cast,
    rpdai,
    rpdai_post,
    site_today,
    treg,
    visit,
)


@pytest.fixture
def cast(db):
    return rp_cast()


def test_a_visit_outside_its_window_is_accepted_and_marked_a_deviation(cast, client_for):
    p = participant()
    w4 = visit(p, "W4")
    late = w4.window_end + timedelta(days=2)
    client = client_for(cast.cora)
    url = reverse("assessments:visit_form", args=[p.pk, "W4", "RPDAI"])
    response = client.post(
        url, {"visit_date": late.isoformat(), **rpdai_post(rpdai())}, follow=True
    )
    assert response.status_code == 200
    w4.refresh_from_db()
    assert (w4.status, w4.actual_date, w4.is_out_of_window) == (VisitStatus.DONE, late, True)
    html = response.content.decode()
    assert "recorded as a protocol deviation" in html
    assert 'id="deviation"' in html  # the visit page says so too
    panel = client.get(reverse("patients:participant", args=[p.pk])).content.decode()
    assert "1 visit out of window" in panel


def test_a_visit_inside_its_window_is_not_a_deviation(cast):
    p = participant()
    w4 = visit(p, "W4")
    capture(p, "W4", "RPDAI", rpdai(), user=cast.cora, visit_date=w4.window_start)
    assert not visit(p, "W4").is_out_of_window
    assert selectors.deviations_for(cast.cora, cast.study) == []


def test_deviations_are_exported_as_csv(cast, client_for):
    p = participant(subject_id="RP-001")
    w4, w8 = visit(p, "W4"), visit(p, "W8")
    capture(
        p, "W4", "RPDAI", rpdai(), user=cast.cora, visit_date=w4.window_start - timedelta(days=1)
    )
    services.mark_visit_missed(
        visit=w8, reason='=HYPERLINK("x") participant travelling', user=cast.cora
    )
    response = client_for(cast.molly).get(
        reverse("assessments:deviations_csv", args=[cast.study.code])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["subject_id"], r["visit"], r["deviation"]) for r in rows] == [
        ("RP-001", "W4", "out_of_window"),
        ("RP-001", "W8", "missed"),
    ]
    assert rows[0]["days_outside_window"] == "-1"
    assert rows[0]["actual_date"] == (w4.window_start - timedelta(days=1)).isoformat()
    assert rows[1]["reason"].startswith("'=HYPERLINK")  # not run as a spreadsheet formula


def test_deviations_of_other_sites_and_studies_are_not_exported(cast, client_for):
    p = participant()
    w4 = visit(p, "W4")
    capture(p, "W4", "RPDAI", rpdai(), user=cast.cora, visit_date=w4.window_end + timedelta(days=1))
    url = reverse("assessments:deviations_csv", args=[cast.study.code])
    otto_rows = client_for(cast.otto).get(url).content.decode().strip().splitlines()
    assert len(otto_rows) == 1  # the header only: PKUPH is not otto's site
    assert client_for(cast.charlie).get(url).status_code == 404


def test_a_visit_is_marked_missed_with_a_reason_from_its_page(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    page = client.get(reverse("assessments:visit", args=[p.pk, "W8"])).content.decode()
    assert "Record this visit as missed" in page
    url = reverse("assessments:visit_missed", args=[p.pk, "W8"])
    client.post(url, {"reason": "", "row_version": "1"})
    assert visit(p, "W8").status == VisitStatus.UPCOMING
    client.post(url, {"reason": "Hospitalised elsewhere", "row_version": "1"})
    w8 = visit(p, "W8")
    assert (w8.status, w8.status_reason) == (VisitStatus.MISSED, "Hospitalised elsewhere")
    assert history_for(w8)[-1].reason == "Hospitalised elsewhere"


def test_a_missed_visit_takes_no_data_and_a_visit_with_data_cannot_be_missed(cast):
    p = participant()
    services.mark_visit_missed(visit=visit(p, "W8"), reason="Travelling", user=cast.cora)
    with pytest.raises(ValidationError, match="recorded as missed"):
        capture(p, "W8", "RPDAI", rpdai(), user=cast.cora)
    capture(p, "W4", "RPDAI", rpdai(), user=cast.cora)
    with pytest.raises(ValidationError, match="Only an upcoming visit"):
        services.mark_visit_missed(visit=visit(p, "W4"), reason="x", user=cast.cora)
    assert InstrumentResponse.objects.count() == 1


def test_a_monitor_cannot_mark_a_visit_missed(cast, client_for):
    p = participant()
    url = reverse("assessments:visit_missed", args=[p.pk, "W8"])
    assert client_for(cast.molly).post(url, {"reason": "x"}).status_code == 403
    assert client_for(cast.otto).post(url, {"reason": "x"}).status_code == 404
    assert visit(p, "W8").status == VisitStatus.UPCOMING


def test_an_unscheduled_visit_is_added_and_takes_any_protocol_form(cast, client_for):
    p = participant()
    day = p.baseline_date + timedelta(days=40)
    client = client_for(cast.cora)
    url = reverse("assessments:unscheduled_visit", args=[p.pk])
    response = client.post(url, {"visit_date": day.isoformat(), "reason": "Ear flare"})
    assert response.status_code == 302
    u1 = visit(p, "U1")
    assert (u1.is_unscheduled, u1.actual_date, u1.study_day, u1.status) == (
        True,
        day,
        41,
        VisitStatus.DONE,
    )
    assert not u1.is_out_of_window
    page = client.get(reverse("assessments:visit", args=[p.pk, "U1"]))
    assert [c.code for c in page.context["cells"]] == [
        "RPDAI",
        "TREG",
        "STEROID",
        "VITALS",
        "CONMED",
        "MEDHIST",
    ]
    assert all(c.status == "optional" for c in page.context["cells"])
    capture(p, "U1", "TREG", treg(), user=cast.cora, visit_date=day)
    assert TregPanel.objects.get().scheduled_visit == u1
    client.post(url, {"visit_date": day.isoformat(), "reason": "Follow-up"})
    assert visit(p, "U2").name == "Unscheduled visit 2"


def test_an_unscheduled_visit_needs_a_reason_and_a_past_date(cast, client_for):
    p = participant()
    url = reverse("assessments:unscheduled_visit", args=[p.pk])
    tomorrow = site_today() + timedelta(days=1)
    html = client_for(cast.cora).post(url, {"visit_date": tomorrow.isoformat(), "reason": ""})
    html = html.content.decode()
    assert "This field is required." in field_error(html, "reason")
    html = client_for(cast.cora).post(url, {"visit_date": tomorrow.isoformat(), "reason": "r"})
    assert "cannot be in the future" in field_error(html.content.decode(), "visit_date")
    assert not p.visits.filter(is_unscheduled=True).exists()
    assert client_for(cast.molly).get(url).status_code == 403
