"""The adverse-event API: report with deadlines in the answer, the review queue, signing,
follow-up with optimistic locking, report times; same permissions as the pages."""

import pytest
from django.urls import reverse

from safety.models import MESSAGES, AdverseEvent
from signatures.models import Signature
from tests.safety.helpers_safety import ae_fields, build_cast, report, sae_fields


@pytest.fixture
def cast(db):
    return build_cast()


def body(**overrides):
    data = {
        "term": "Fever",
        "onset_date": "2025-02-03",
        "grade": 2,
        "serious": False,
        "relationship": "possible",
        "expectedness": "expected",
        "action_taken": "DOSE NOT CHANGED",
        "outcome": "NOT RECOVERED/NOT RESOLVED",
        "awareness_at": "2025-02-03T10:00:00",
    }
    data.update(overrides)
    return data


def post(client, participant, data):
    url = reverse("api-participant-adverse-events", args=[participant.pk])
    return client.post(url, data, content_type="application/json")


def test_a_non_serious_event_answers_without_deadlines(cast, client_for):
    response = post(client_for(cast.coordinator), cast.participant, body())
    assert response.status_code == 201
    answer = response.json()
    assert answer["id"] == AdverseEvent.objects.get().pk
    assert answer["ongoing"] is True  # no end date given
    assert "sponsor_report_due" not in answer
    assert "regulator_report_due" not in answer
    assert answer["reviewed"] is False


def test_an_offsetless_awareness_is_site_time_and_answers_come_in_utc(cast, client_for):
    answer = post(client_for(cast.coordinator), cast.participant, body()).json()
    assert answer["awareness_at"] == "2025-02-03T02:00:00Z"
    assert answer["site_timezone"] == "Asia/Shanghai"


def test_a_serious_event_answers_with_the_sponsor_deadline_only(cast, client_for):
    data = body(serious=True, seriousness=["hospitalisation"], relationship="unlikely")
    answer = post(client_for(cast.coordinator), cast.participant, data).json()
    assert answer["sponsor_report_due"] == "2025-02-04T02:00:00Z"
    assert answer["sponsor_reported_at"] is None
    assert "regulator_report_due" not in answer
    assert answer["seriousness"] == ["hospitalisation"]


def test_a_susar_answers_with_both_deadlines(cast, client_for):
    data = body(
        serious=True,
        seriousness=["life_threatening", "hospitalisation"],
        grade=4,
        relationship="certain",
        expectedness="unexpected",
    )
    answer = post(client_for(cast.investigator), cast.participant, data).json()
    assert answer["is_susar"] is True
    assert answer["sponsor_report_due"] == "2025-02-04T02:00:00Z"
    # Day 7 after 3 February ends at midnight in Shanghai: 15:59:59.999999 UTC.
    assert answer["regulator_report_due"] == "2025-02-10T15:59:59.999999Z"
    assert answer["regulator_complete_report_due"] == "2025-02-18T15:59:59.999999Z"
    assert [d["kind"] for d in answer["deadlines"]] == [
        "sponsor",
        "regulator",
        "regulator_complete",
    ]


def test_errors_name_the_field_to_correct(cast, client_for):
    response = post(client_for(cast.coordinator), cast.participant, body(serious=True))
    assert response.status_code == 400
    assert response.json() == {"errors": {"serious": [str(MESSAGES["serious_no_criterion"])]}}
    response = post(
        client_for(cast.coordinator),
        cast.participant,
        body(
            serious=True,
            seriousness=["hospitalisation"],
            outcome="FATAL",
            ongoing=False,
            end_date="2025-02-05",
            death_date="2025-02-05",
        ),
    )
    assert response.json()["errors"]["seriousness"] == [str(MESSAGES["fatal_not_death"])]
    assert response.json()["errors"].keys() == {"seriousness"}
    assert not AdverseEvent.objects.exists()


def test_missing_and_unknown_values_are_400(cast, client_for):
    response = post(
        client_for(cast.coordinator), cast.participant, body(grade=7, relationship="maybe")
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"grade", "relationship"}


def test_a_monitor_cannot_report_and_others_do_not_see_the_participant(cast, client_for):
    assert post(client_for(cast.monitor), cast.participant, body()).status_code == 403
    assert post(client_for(cast.outsider), cast.participant, body()).status_code == 404
    assert post(client_for(cast.coordinator), cast.paris_participant, body()).status_code == 404
    assert not AdverseEvent.objects.exists()


def queue(client, code, **params):
    return client.get(reverse("api-study-adverse-events", args=[code]), params)


def test_the_review_queue_lists_unreviewed_events_with_counts(cast, client_for):
    first = report(cast.participant, cast.coordinator, **sae_fields())
    signed = report(cast.participant, cast.coordinator, **ae_fields(term="Signed"))
    client = client_for(cast.investigator)
    client.post(
        reverse("api-adverse-event-sign", args=[signed.pk]),
        {"password": cast.password, "meaning": "reviewed"},
        content_type="application/json",
    )
    answer = queue(client, cast.study.code, reviewed="false").json()
    assert [r["id"] for r in answer["results"]] == [first.pk]
    assert answer["count"] == 1
    assert answer["counts"]["by_grade"]["3"] == 1
    reviewed = queue(client, cast.study.code, reviewed="true").json()["results"]
    assert [(r["id"], r["review"]["signed_by"]) for r in reviewed] == [(signed.pk, "ivy")]


def test_the_queue_is_404_outside_the_study_and_refuses_a_bad_filter(cast, client_for):
    assert queue(client_for(cast.outsider), cast.study.code).status_code == 404
    response = queue(client_for(cast.monitor), cast.study.code, reviewed="perhaps")
    assert response.status_code == 400
    assert "reviewed" in response.json()["errors"]


def sign(client, adverse_event, **data):
    payload = {"password": "correct-horse-battery", "meaning": "reviewed"} | data
    url = reverse("api-adverse-event-sign", args=[adverse_event.pk])
    return client.post(url, payload, content_type="application/json")


def test_an_investigator_signs_through_the_api(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    response = sign(client_for(cast.investigator), adverse_event)
    assert response.status_code == 200
    assert response.json()["signed_by"] == "ivy"
    assert response.json()["meaning"] == "reviewed"
    assert Signature.objects.valid().count() == 1


def test_a_monitor_and_a_coordinator_may_not_sign_through_the_api(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    assert sign(client_for(cast.monitor), adverse_event).status_code == 403
    assert sign(client_for(cast.coordinator), adverse_event).status_code == 403
    assert sign(client_for(cast.outsider), adverse_event).status_code == 404
    assert not Signature.objects.exists()


def test_a_wrong_password_or_meaning_is_400(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    client = client_for(cast.investigator)
    response = sign(client, adverse_event, password="wrong")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    response = sign(client, adverse_event, meaning="eligibility confirmed")
    assert response.status_code == 400
    assert "meaning" in response.json()["errors"]
    assert not Signature.objects.exists()


def test_signing_a_stale_version_is_409(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    response = sign(client_for(cast.investigator), adverse_event, row_version=99)
    assert response.status_code == 409
    assert not Signature.objects.exists()


def patch(client, adverse_event, data):
    url = reverse("api-adverse-event", args=[adverse_event.pk])
    return client.patch(url, data, content_type="application/json")


def test_a_follow_up_needs_a_reason_and_the_version_read(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **ae_fields())
    client = client_for(cast.coordinator)
    response = patch(client, adverse_event, {"grade": 2, "row_version": 1})
    assert response.status_code == 400
    assert "reason_for_change" in response.json()["errors"]
    response = patch(client, adverse_event, {"grade": 2, "reason_for_change": "Worse"})
    assert response.status_code == 400
    assert "row_version" in response.json()["errors"]


def test_a_follow_up_voids_the_signature_and_a_stale_one_is_409(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    sign(client_for(cast.investigator), adverse_event)
    client = client_for(cast.coordinator)
    response = patch(
        client, adverse_event, {"grade": 4, "row_version": 1, "reason_for_change": "Worse"}
    )
    assert response.status_code == 200
    assert (response.json()["grade"], response.json()["reviewed"]) == (4, False)
    assert response.json()["review"] is None
    response = patch(
        client, adverse_event, {"grade": 2, "row_version": 1, "reason_for_change": "Better"}
    )
    assert response.status_code == 409
    assert AdverseEvent.objects.get().grade == 4


def test_a_monitor_reads_an_event_but_cannot_change_it(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **ae_fields())
    client = client_for(cast.monitor)
    assert client.get(reverse("api-adverse-event", args=[adverse_event.pk])).status_code == 200
    response = patch(client, adverse_event, {"grade": 2, "row_version": 1})
    assert response.status_code == 403


def test_report_times_are_recorded_and_judged_met_or_missed(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    url = reverse("api-adverse-event-reports", args=[adverse_event.pk])
    response = client_for(cast.coordinator).post(
        url, {"sponsor_reported_at": "2025-02-04T11:00:00"}, content_type="application/json"
    )
    assert response.status_code == 200
    # 11:00 in Shanghai is one hour after the 24 hours ran out.
    assert response.json()["deadlines"][0]["state"] == "missed"
    assert response.json()["sponsor_reported_at"] == "2025-02-04T03:00:00Z"


def test_the_participants_events_are_listed(cast, client_for):
    report(cast.participant, cast.coordinator, **ae_fields(term="Rash"))
    url = reverse("api-participant-adverse-events", args=[cast.participant.pk])
    answer = client_for(cast.monitor).get(url).json()
    assert [r["term"] for r in answer] == ["Rash"]
    assert client_for(cast.outsider).get(url).status_code == 404


def test_signing_a_stale_version_asks_to_review_the_event_again(cast, client_for):
    adverse_event = report(cast.participant, cast.coordinator, **sae_fields())
    response = sign(client_for(cast.investigator), adverse_event, row_version=99)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The adverse event changed since you read it; review it again."
    }
