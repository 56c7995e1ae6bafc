"""The dose log shows an investigator's dosing decisions and takes them: field messages for
a bad one, 403 for any other role, 404 outside the user's sites, and in a blinded study
the level of a reduction but never its amount."""

from datetime import timedelta

import pytest
from django.urls import reverse

from patients.dose_modifications import modify_dosing
from patients.models import DoseModification, DoseStatus
from tests.assessments.helpers_capture import field_error, participant, rp_cast, site_today
from tests.patients import journey_helpers


@pytest.fixture
def cast(db):
    return rp_cast()


@pytest.fixture
def p(cast):
    return participant(baseline=site_today() - timedelta(days=14))


def log_url(p):
    return reverse("assessments:doses", args=[p.pk])


def modify_url(p):
    return reverse("assessments:dose_modify", args=[p.pk])


def test_an_investigator_holds_dosing_from_the_log_and_the_log_says_so(cast, p, client_for):
    client = client_for(cast.ivy)
    page = client.get(log_url(p))
    assert 'id="modify-dosing"' in page.content.decode()
    today = site_today()
    answer = client.post(
        modify_url(p),
        {"kind": "hold", "from_date": today.isoformat(), "reason": "Grade 3 neutropenia"},
    )
    assert answer.status_code == 302
    log = client.get(log_url(p)).content.decode()
    assert 'id="dose-modifications"' in log and "Grade 3 neutropenia" in log
    assert "held: not to be given" in log
    states = {d.pk: s for d, s in client.get(log_url(p)).context["rows"]}
    held = p.doses.filter(date__gte=today)
    assert {states[d.pk] for d in held} == {"held"}


def test_a_bad_decision_comes_back_with_messages_next_to_the_fields(cast, p, client_for):
    client = client_for(cast.ivy)
    before = (p.baseline_date - timedelta(days=3)).isoformat()
    page = client.post(
        modify_url(p), {"kind": "reduce", "from_date": before, "level": "", "reason": "x"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "before the participant" in field_error(html, "from_date")
    assert "Choose the dose level" in field_error(html, "level")
    assert not DoseModification.objects.exists()


@pytest.mark.parametrize("who", ["cora", "molly"])
def test_a_coordinator_or_monitor_sees_no_form_and_is_refused(cast, p, client_for, who):
    client = client_for(getattr(cast, who))
    assert 'id="modify-dosing"' not in client.get(log_url(p)).content.decode()
    data = {"kind": "stop", "from_date": site_today().isoformat(), "reason": "no"}
    assert client.post(modify_url(p), data).status_code == 403
    assert not p.doses.filter(status=DoseStatus.CANCELLED).exists()


@pytest.mark.parametrize("who", ["otto", "charlie"])
def test_someone_outside_the_site_gets_404(cast, p, client_for, who):
    data = {"kind": "stop", "from_date": site_today().isoformat(), "reason": "no"}
    assert client_for(getattr(cast, who)).post(modify_url(p), data).status_code == 404


def test_a_reduction_is_shown_to_a_blinded_reader_as_its_level_only(client_for, db):
    team = journey_helpers.enrolled_in_mood()
    mood = team["participant"]
    start = mood.baseline_date + timedelta(days=2)
    modify_dosing(
        participant=mood,
        user=team["investigator"],
        kind="reduce",
        from_date=start,
        level=2,
        reason="Fever after injections",
    )
    blinded = client_for(team["investigator"]).get(log_url(mood)).content.decode()
    assert "reduced to level 2" in blinded
    assert "0.5" not in blinded
    assert "reduced from" not in blinded
    unblinded = client_for(team["admin"]).get(log_url(mood)).content.decode()
    assert "0.5 MIU (reduced from 1.5 MIU)" in unblinded
    dose = mood.doses.filter(date__gte=start).first()
    page = client_for(team["investigator"]).get(
        reverse("assessments:dose", args=[mood.pk, dose.pk])
    )
    assert "reduced to level 2" in page.content.decode() and "0.5" not in page.content.decode()


def api_url(p):
    return reverse("api-dose-modifications", args=[p.pk])


def test_the_api_takes_a_decision_and_lists_it(cast, p, client_for):
    client = client_for(cast.ivy)
    today = site_today()
    body = {"kind": "reduce", "from_date": today.isoformat(), "level": 1, "reason": "Fever"}
    answer = client.post(api_url(p), body, content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert (answer.json()["kind"], answer.json()["level"], answer.json()["dose"]) == (
        "reduce",
        1,
        0.5,
    )
    assert [m["id"] for m in client.get(api_url(p)).json()] == [answer.json()["id"]]
    doses = client.get(reverse("api-calendar", args=[p.pk])).json()["doses"]
    later = [d for d in doses if d["date"] >= today.isoformat()]
    assert {(d["dose"], d["reduced_from"]) for d in later} == {(0.5, 1)}


def test_the_api_refuses_field_by_field_and_by_role(cast, p, client_for):
    body = {"kind": "reduce", "from_date": site_today().isoformat(), "level": 7, "reason": ""}
    answer = client_for(cast.ivy).post(api_url(p), body, content_type="application/json")
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"level", "reason"}
    body = {"kind": "hold", "from_date": site_today().isoformat(), "reason": "x"}
    assert (
        client_for(cast.cora).post(api_url(p), body, content_type="application/json").status_code
        == 403
    )
    assert client_for(cast.otto).get(api_url(p)).status_code == 404


def test_the_api_never_gives_a_blinded_reader_a_reduced_amount(client_for, db):
    team = journey_helpers.enrolled_in_mood()
    mood = team["participant"]
    start = mood.baseline_date + timedelta(days=2)
    body = {"kind": "reduce", "from_date": start.isoformat(), "level": 2, "reason": "Fever"}
    client = client_for(team["investigator"])
    answer = client.post(api_url(mood), body, content_type="application/json")
    assert answer.status_code == 201 and "dose" not in answer.json()
    assert answer.json()["level"] == 2
    doses = client.get(reverse("api-calendar", args=[mood.pk])).json()["doses"]
    reduced = [d for d in doses if d["date"] >= start.isoformat()]
    assert reduced and all(d["dose"] is None and "reduced_from" not in d for d in reduced)
    unblinded = client_for(team["admin"]).get(api_url(mood)).json()
    assert unblinded[0]["dose"] == 0.5


def test_a_blinded_coordinator_records_a_reduced_dose_without_seeing_its_amount(client_for, db):
    from assessments.models import DoseAdministration

    team = journey_helpers.enrolled_in_mood()
    mood = team["participant"]
    start = mood.baseline_date + timedelta(days=2)
    modify_dosing(
        participant=mood,
        user=team["investigator"],
        kind="reduce",
        from_date=start,
        level=2,
        reason="Fever after injections",
    )
    dose = mood.doses.get(date=start)
    url = reverse("assessments:dose", args=[mood.pk, dose.pk])
    client = client_for(team["coordinator"])
    assert "0.5" not in client.get(url).content.decode()
    answer = client.post(url, {"given": "yes", "administered_on": start.isoformat()})
    assert answer.status_code == 302
    record = DoseAdministration.objects.get(planned_dose=dose)
    assert str(record.actual_dose) == "0.500"
    edit = client.get(url).content.decode()
    assert "0.5" not in edit
    # A correction by the blinded coordinator keeps the amount saved.
    client.post(
        url,
        {
            "given": "yes",
            "administered_on": start.isoformat(),
            "lot": "L-7",
            "row_version": record.row_version,
            "reason_for_change": "Lot added",
        },
    )
    record.refresh_from_db()
    assert (record.lot, str(record.actual_dose)) == ("L-7", "0.500")
    trail = reverse("record-history", args=["assessments.doseadministration", record.pk])
    blinded_trail = client.get(trail)
    assert blinded_trail.status_code == 200 and "0.5" not in blinded_trail.content.decode()
    assert "0.5" in client_for(team["admin"]).get(trail).content.decode()
