""" "Reviewed" is a signature whose fingerprint still matches the adverse event: a change
made behind the services' back (raw SQL, a database console) puts the event back in the
queue, the listing, the API and the counts as unreviewed, and the queue still costs the same
number of queries however many signed events it has to check."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from safety import services
from safety.models import AdverseEvent
from tests.safety.helpers_safety import ae_fields, build_cast, report, sae_fields


@pytest.fixture
def cast(db):
    return build_cast()


def signed(cast, **fields):
    adverse_event = report(cast.participant, cast.coordinator, **fields)
    services.sign_adverse_event(
        adverse_event=adverse_event, user=cast.investigator, password=cast.password
    )
    return adverse_event


def tamper(adverse_event, **values):
    """What a database console can do: change the row, bypassing services and signatures."""
    AdverseEvent.objects.filter(pk=adverse_event.pk).update(**values)


@pytest.fixture
def tampered(cast):
    cast.intact = signed(cast, **ae_fields(term="Headache"))
    adverse_event = signed(cast, **sae_fields(term="Pneumonia"))
    tamper(adverse_event, grade=2)
    return adverse_event


def terms(response) -> list[str]:
    return [ae.term for ae in response.context["page"].object_list]


def test_an_event_changed_after_signing_is_back_in_the_review_queue(cast, tampered, client_for):
    response = client_for(cast.investigator).get(
        reverse("safety:review-queue", args=[cast.study.code])
    )
    assert terms(response) == ["Pneumonia"]
    assert response.context["counts"]["total"] == 1
    assert "Signature no longer matches" in response.content.decode()


def test_the_listing_shows_an_event_changed_after_signing_as_unreviewed(cast, tampered, client_for):
    response = client_for(cast.monitor).get(reverse("safety:study-listing", args=[cast.study.code]))
    rows = {ae.term: ae.is_reviewed for ae in response.context["page"].object_list}
    assert rows == {"Headache": True, "Pneumonia": False}


def test_the_api_answers_reviewed_false_and_filters_by_the_signature(cast, tampered, client_for):
    client = client_for(cast.monitor)
    answer = client.get(reverse("api-adverse-event", args=[tampered.pk])).json()
    assert (answer["reviewed"], answer["review"]) == (False, None)
    url = reverse("api-study-adverse-events", args=[cast.study.code])
    queue = client.get(url, {"reviewed": "false"}).json()
    assert [r["term"] for r in queue["results"]] == ["Pneumonia"]
    assert queue["counts"]["total"] == 1
    done = client.get(url, {"reviewed": "true"}).json()
    assert [(r["term"], r["reviewed"]) for r in done["results"]] == [("Headache", True)]
    everything = client.get(url).json()["results"]
    assert {r["term"]: r["reviewed"] for r in everything} == {"Headache": True, "Pneumonia": False}


def test_the_participant_page_shows_an_event_changed_after_signing_as_awaiting_review(
    cast, tampered, client_for
):
    page = client_for(cast.monitor).get(reverse("patients:participant", args=[cast.participant.pk]))
    panel = page.content.decode().split('id="adverse-events"')[1]
    assert panel.count("Awaiting review") == 1
    assert panel.count(">Reviewed<") == 1


def test_the_investigator_can_sign_a_tampered_event_again(cast, tampered):
    services.sign_adverse_event(
        adverse_event=tampered, user=cast.investigator, password=cast.password
    )
    assert list(AdverseEvent.objects.for_study(cast.study).live().unreviewed()) == []


def test_the_queue_costs_the_same_queries_for_more_signed_events(cast, client_for):
    for n in range(3):
        signed(cast, **ae_fields(term=f"Signed {n}"))
    report(cast.participant, cast.coordinator, **ae_fields(term="Waiting"))
    client = client_for(cast.investigator)
    page_url = reverse("safety:review-queue", args=[cast.study.code])
    api_url = reverse("api-study-adverse-events", args=[cast.study.code])
    client.get(page_url)  # a session's first page writes it (accounts.sessions)
    with CaptureQueriesContext(connection) as few:
        client.get(page_url)
        client.get(api_url, {"reviewed": "false"})
    for n in range(6):
        tamper(signed(cast, **ae_fields(term=f"More {n}")), grade=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get(page_url)
        client.get(api_url, {"reviewed": "false"})
    assert len(terms(response)) == 7
    assert len(many) == len(few)


def _fingerprints_computed(monkeypatch) -> list:
    import safety.models

    computed = []

    def counting(obj):
        computed.append(obj.pk)
        return real(obj)

    real = safety.models.fingerprint
    monkeypatch.setattr(safety.models, "fingerprint", counting)
    return computed


def test_only_events_changed_since_signing_have_their_fingerprint_recomputed(
    cast, tampered, client_for, monkeypatch
):
    """The queue must not re-hash every reviewed event of the study on every view: an event
    whose audit trail has nothing after its signature is unchanged, by rule of the database's
    triggers; only the changed ones are compared with what was signed."""
    for n in range(4):
        signed(cast, **ae_fields(term=f"Unchanged {n}"))
    computed = _fingerprints_computed(monkeypatch)
    response = client_for(cast.investigator).get(
        reverse("safety:review-queue", args=[cast.study.code])
    )
    assert terms(response) == ["Pneumonia"]
    assert set(computed) == {tampered.pk}


def test_a_signature_from_before_the_trail_mark_is_still_checked(cast, client_for, monkeypatch):
    """Signatures made before they recorded the trail's last event are compared every time."""
    from signatures.models import Signature

    adverse_event = signed(cast, **ae_fields(term="Old"))
    Signature.objects.update(record_event_id=None)
    tamper(adverse_event, grade=3)
    computed = _fingerprints_computed(monkeypatch)
    response = client_for(cast.investigator).get(
        reverse("safety:review-queue", args=[cast.study.code])
    )
    assert terms(response) == ["Old"]
    assert adverse_event.pk in computed
