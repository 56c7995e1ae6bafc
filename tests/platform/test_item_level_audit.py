"""The audit trail reads like the form: field labels, choice labels, site names, one line per
questionnaire item and times in the site's zone, never column names or JSON blobs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from assessments.models import InstrumentResponse
from audit.history import hidden_fields_for, history_for
from audit.tracking import acting
from patients import services as patient_services
from patients.models import Participant, RandomisationSlot
from safety import services
from tests.assessments.helpers_capture import capture, rp_cast, rpdai
from tests.assessments.helpers_capture import participant as rp_participant
from tests.patients.journey_helpers import (
    RP_YES,
    TODAY_ISH,
    enrolled_in_mood,
    rp_study,
    screened,
    staff,
)
from tests.safety.helpers_safety import (
    ae_fields,
    at,
    build_cast,
    report,
    sae_fields,
)
from trials.models import Arm, Role


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def adverse_event(cast):
    adverse_event = report(cast.participant, cast.coordinator, **ae_fields(grade=2))
    return services.update_adverse_event(
        adverse_event=adverse_event,
        user=cast.investigator,
        changes={"grade": 3, "awareness_at": at(2025, 2, 3, 9, 30)},
        reason="Worsened at W4",
        expected_version=adverse_event.row_version,
    )


def trail_page(client, label, pk) -> str:
    response = client.get(reverse("record-history", args=[label, pk]))
    assert response.status_code == 200
    return response.content.decode()


def trail_api(client, label, pk) -> list[dict]:
    response = client.get(reverse("api-record-history", args=[label, pk]))
    assert response.status_code == 200
    return response.json()


def test_a_grade_change_reads_as_the_ctcae_labels(cast, adverse_event, client_for):
    grade = next(c for c in history_for(adverse_event)[-1].changes if c.field == "grade")
    assert (grade.label, grade.old_display, grade.new_display) == (
        "CTCAE grade",
        "2 – Moderate",
        "3 – Severe or medically significant",
    )
    text = trail_page(client_for(cast.monitor), "safety.adverseevent", adverse_event.pk)
    assert '<td class="audit-field">CTCAE grade</td>' in text
    assert '<td class="audit-old">2 – Moderate</td>' in text
    assert '<td class="audit-new">3 – Severe or medically significant</td>' in text


def test_the_api_keeps_its_raw_values_and_adds_the_labels(cast, adverse_event, client_for):
    last = trail_api(client_for(cast.monitor), "safety.adverseevent", adverse_event.pk)[-1]
    assert {"at", "action", "user", "reason", "changes"} <= set(last)
    grade = next(c for c in last["changes"] if c["field"] == "grade")
    assert grade["old"] == 2 and grade["new"] == 3
    assert grade["label"] == "CTCAE grade"
    assert grade["old_display"] == "2 – Moderate"
    assert grade["new_display"] == "3 – Severe or medically significant"


def test_bookkeeping_columns_never_show_as_changes(cast, adverse_event, client_for):
    client = client_for(cast.monitor)
    text = trail_page(client, "safety.adverseevent", adverse_event.pk)
    fields = {
        c["field"]
        for e in trail_api(client, "safety.adverseevent", adverse_event.pk)
        for c in e["changes"]
    }
    for column in ("row_version", "updated_at", "created_at", "id"):
        assert column not in fields
    assert "row_version" not in text
    assert "updated_at" not in text


def test_computed_deadlines_are_marked_derived(cast):
    serious = report(cast.participant, cast.coordinator, **sae_fields())
    first = history_for(serious)[0]
    derived = {c.field for c in first.changes if c.derived}
    assert "sponsor_report_due" in derived
    assert "grade" not in derived


def test_times_show_in_the_site_zone_with_its_abbreviation(cast, adverse_event, client_for):
    last = history_for(adverse_event)[-1]
    assert last.at_display.endswith(" CST (UTC+08:00)")  # PKUPH is in Asia/Shanghai
    awareness = next(c for c in last.changes if c.field == "awareness_at")
    assert awareness.new_display == "2025-02-03 09:30:00 CST (UTC+08:00)"
    text = trail_page(client_for(cast.monitor), "safety.adverseevent", adverse_event.pk)
    assert last.at_display in text
    assert "2025-02-03 09:30:00 CST (UTC+08:00)" in text
    assert "+00:00" not in text


def test_a_record_without_a_site_shows_utc_and_says_so(sam, study):
    with acting(sam, "Sponsor renamed the study"):
        study.title = "Low-dose IL-2 in RP"
        study.save()
    assert history_for(study)[-1].at_display.endswith(" UTC")


def test_a_site_change_shows_the_site_names(cast, client_for):
    participant = cast.participant
    with acting(cast.admin, "Transferred to Paris"):
        Participant.objects.filter(pk=participant.pk).update(site=cast.paris)
    site = next(c for c in history_for(participant)[-1].changes if c.field == "site_id")
    assert (site.label, site.old_display, site.new_display) == (
        "Site",
        str(cast.site),
        "PAR – Paris",
    )
    text = trail_page(client_for(cast.admin), "patients.participant", participant.pk)
    assert f'<td class="audit-old">{escape(cast.site)}</td>' in text
    assert "site_id" not in text


def test_an_instrument_correction_lists_each_changed_item(db, client_for):
    cast = rp_cast()
    p = rp_participant()
    capture(p, "W0", "RPDAI", rpdai(), user=cast.cora)
    capture(
        p, "W0", "RPDAI", rpdai(AURIC=True), user=cast.cora, expected_version=1, reason="Missed"
    )
    record = InstrumentResponse.objects.get(participant=p, instrument="RPDAI")
    last = history_for(record)[-1]
    items = [(c.item, c.label, c.old_display, c.new_display) for c in last.changes if c.item]
    assert items == [("AURIC", "AURIC – Auricular chondritis (uni- or bilateral)", "No", "Yes")]
    text = trail_page(client_for(cast.molly), "assessments.instrumentresponse", record.pk)
    assert "AURIC – Auricular chondritis (uni- or bilateral)" in text
    assert "{&quot;" not in text  # no JSON blob of answers
    api = trail_api(client_for(cast.molly), "assessments.instrumentresponse", record.pk)
    auric = next(c for c in api[-1]["changes"] if c["item"] == "AURIC")
    assert (auric["field"], auric["old"], auric["new"]) == ("answers", False, True)


def test_an_eligibility_change_names_the_criterion(db, client_for):
    study = rp_study()
    coordinator = staff(study, "carla", Role.COORDINATOR)
    participant = screened(study, coordinator)
    record = {"participant": participant, "assessed_on": TODAY_ISH, "user": coordinator}
    patient_services.record_eligibility(answers=RP_YES, **record)
    assessment = patient_services.record_eligibility(
        answers={**RP_YES, "E1": "yes"}, reason="Infection found", **record
    )
    changes = history_for(assessment)[-1].changes
    e1 = next(c for c in changes if c.item == "E1")
    assert (e1.label, e1.old_display, e1.new_display) == (
        "E1 – Active serious infection",
        "No",
        "Yes",
    )
    assert {c.field for c in changes if c.derived} == {"eligible", "failed"}
    text = trail_page(client_for(coordinator), "patients.eligibilityassessment", assessment.pk)
    assert "E1 – Active serious infection" in text


@pytest.fixture
def mood(db):
    return enrolled_in_mood()


def test_a_blinded_reader_never_sees_an_arm(mood, client_for):
    participant, client = mood["participant"], client_for(mood["coordinator"])
    arms = [str(arm) for arm in Arm.objects.filter(version__study=mood["study"])]
    assert arms
    text = trail_page(client, "patients.participant", participant.pk)
    api = trail_api(client, "patients.participant", participant.pk)
    displays = {
        value
        for e in api
        for c in e["changes"]
        for value in (c["label"], c["old_display"], c["new_display"])
    }
    for arm in arms:
        assert arm not in text
        assert arm not in displays


def test_a_key_to_an_arm_is_hidden_from_blinded_readers_even_if_not_listed(db):
    assert {"arm", "arm_id"} <= hidden_fields_for(RandomisationSlot, blinded=True)
    assert "arm_id" not in hidden_fields_for(RandomisationSlot, blinded=False)


def test_the_trail_costs_the_same_queries_for_3_or_30_events(
    cast, client_for, django_assert_max_num_queries
):
    participant, client = cast.participant, client_for(cast.admin)
    sites = [cast.paris, cast.site]

    def move(times):
        for n in range(times):
            with acting(cast.admin, f"Move {n}"):
                Participant.objects.filter(pk=participant.pk).update(
                    site=sites[n % 2], end_reason=f"note {n}"
                )

    move(3)
    page = reverse("record-history", args=["patients.participant", participant.pk])
    api = reverse("api-record-history", args=["patients.participant", participant.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(page)
        client.get(api)
    move(27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(page).status_code == 200
        assert client.get(api).status_code == 200
