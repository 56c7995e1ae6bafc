"""The study's AE listing and review queue: counts by grade, seriousness and relationship,
only the user's sites, filters, the queue's order, and no arm for anyone."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safety import services
from safety.models import AdverseEvent
from tests.factories import enrolled_participant, load_demo_protocol
from tests.safety.helpers_safety import (
    BASELINE,
    PARIS,
    ae_fields,
    at,
    build_cast,
    report,
    sae_fields,
    staff,
)
from trials.models import Role


@pytest.fixture
def cast(db):
    cast = build_cast()
    p, paris = cast.participant, cast.paris_participant
    cast.mild = report(p, cast.coordinator, **ae_fields(term="Rash", onset_date=date(2025, 2, 3)))
    cast.severe_same_day = report(
        p, cast.coordinator, **sae_fields(term="Pneumonia", onset_date=date(2025, 2, 3))
    )
    cast.older = report(
        p,
        cast.coordinator,
        **ae_fields(
            term="Fatigue",
            grade=2,
            relationship="unlikely",
            onset_date=date(2025, 1, 20),
            awareness_at=at(2025, 1, 21, 9),
        ),
    )
    cast.in_paris = report(
        paris,
        cast.investigator,
        **ae_fields(
            term="Nausea", relationship="probable", awareness_at=at(2025, 2, 3, 9, tz=PARIS)
        ),
    )
    cast.reviewed = report(p, cast.coordinator, **ae_fields(term="Headache", grade=2))
    services.sign_adverse_event(
        adverse_event=cast.reviewed, user=cast.investigator, password=cast.password
    )
    return cast


def listing(client, code, **params):
    return client.get(reverse("safety:study-listing", args=[code]), params)


def rows(response) -> list[str]:
    return [ae.term for ae in response.context["page"].object_list]


def test_counts_by_grade_seriousness_and_relationship(cast):
    counts = AdverseEvent.objects.for_study(cast.study).live().counts()
    assert counts["total"] == 5
    assert counts["by_grade"] == {1: 2, 2: 2, 3: 1, 4: 0, 5: 0}
    assert counts["by_seriousness"] == {"serious": 1, "non_serious": 4}
    assert counts["by_relationship"] == {
        "certain": 0,
        "probable": 1,
        "possible": 2,
        "unlikely": 2,
        "conditional": 0,
        "unassessable": 0,
    }


def test_the_listing_shows_every_event_of_the_users_sites_with_counts(cast, client_for):
    response = listing(client_for(cast.monitor), cast.study.code)
    assert sorted(rows(response)) == ["Fatigue", "Headache", "Nausea", "Pneumonia", "Rash"]
    assert response.context["counts"]["total"] == 5
    assert '<td class="text-end" id="ae-total">5</td>' in response.content.decode()


def test_the_listing_costs_the_same_queries_for_more_events(cast, client_for):
    client = client_for(cast.monitor)
    listing(client, cast.study.code)  # a session's first page writes it (accounts.sessions)
    with CaptureQueriesContext(connection) as five:
        listing(client, cast.study.code)
    for n in range(5):
        report(cast.paris_participant, cast.investigator, **ae_fields(term=f"Extra {n}"))
    with CaptureQueriesContext(connection) as ten:
        response = listing(client, cast.study.code)
    assert response.context["counts"]["total"] == 10
    assert len(ten) == len(five)


def test_a_site_bound_coordinator_sees_only_their_sites_events_and_counts(cast, client_for):
    response = listing(client_for(cast.coordinator), cast.study.code)
    assert "Nausea" not in rows(response)
    assert response.context["counts"]["total"] == 4


def test_a_voided_event_leaves_the_listing_and_the_counts(cast, client_for):
    services.void_adverse_event(adverse_event=cast.mild, user=cast.investigator, reason="Duplicate")
    response = listing(client_for(cast.monitor), cast.study.code)
    assert "Rash" not in rows(response)
    assert response.context["counts"]["total"] == 4


def test_someone_outside_the_study_gets_404(cast, client_for):
    assert listing(client_for(cast.outsider), cast.study.code).status_code == 404
    url = reverse("safety:review-queue", args=[cast.study.code])
    assert client_for(cast.outsider).get(url).status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"grade": "2"}, {"Fatigue", "Headache"}),
        ({"serious": "true"}, {"Pneumonia"}),
        ({"serious": "false"}, {"Rash", "Fatigue", "Nausea", "Headache"}),
        ({"relationship": "probable"}, {"Nausea"}),
        ({"site": "PAR"}, {"Nausea"}),
    ],
)
def test_the_listing_filters(cast, client_for, params, expected):
    response = listing(client_for(cast.monitor), cast.study.code, **params)
    assert set(rows(response)) == expected


def test_a_filter_value_no_select_offers_is_shown_next_to_its_field_and_the_others_apply(
    cast, client_for
):
    """A bookmarked or edited address can carry a value no select offers (a site no longer
    the user's, a mistyped grade). The list must not then show every event while the
    selects still show the other filters as chosen: the valid filters apply and the bad one
    is named next to its field."""
    for page in (listing, review_queue):
        response = page(client_for(cast.investigator), cast.study.code, grade="2", site="NOPE")
        assert response.status_code == 200
        assert set(rows(response)) <= {"Fatigue", "Headache"}
        assert "Fatigue" in rows(response)
        html = response.content.decode()
        filters = html[
            html.index('id="ae-filters"') : html.index("</form>", html.index('id="ae-filters"'))
        ]
        assert "Select a valid choice. NOPE is not one of the available choices." in filters
        assert 'aria-invalid="true"' in filters
        assert 'class="form-select form-select-sm is-invalid"' in filters


def review_queue(client, code, **params):
    return client.get(reverse("safety:review-queue", args=[code]), params)


def test_the_review_queue_holds_unreviewed_events_nearest_deadline_then_most_severe_first(
    cast, client_for
):
    response = review_queue(client_for(cast.investigator), cast.study.code)
    # Pneumonia's sponsor report is due; then grade 2 before grade 1; then the older onset.
    assert rows(response) == ["Pneumonia", "Fatigue", "Rash", "Nausea"]


def test_the_review_queue_and_the_listing_page_through_in_their_order(
    cast, client_for, monkeypatch
):
    from safety import views

    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    monkeypatch.setattr(views, "QUEUE_PAGE_SIZE", 3)
    client = client_for(cast.investigator)
    queue = [rows(review_queue(client, cast.study.code, page=n)) for n in (1, 2)]
    assert queue == [["Pneumonia", "Fatigue", "Rash"], ["Nausea"]]
    every = [rows(listing(client, cast.study.code, page=n)) for n in (1, 2)]
    assert every[0] == ["Fatigue", "Rash", "Pneumonia"]  # onset, then entry order
    assert sorted(every[1]) == ["Headache", "Nausea"]


def test_a_susar_due_within_a_day_comes_before_an_older_non_serious_event(cast, client_for):
    aware = timezone.now() - timedelta(hours=2)
    onset = timezone.localdate(aware, timezone=ZoneInfo(cast.site.timezone))
    susar = report(
        cast.participant,
        cast.coordinator,
        **sae_fields(
            term="Capillary leak",
            relationship="probable",
            expectedness="unexpected",
            onset_date=onset,
            awareness_at=aware,
        ),
    )
    assert susar.sponsor_report_due - timezone.now() < timedelta(hours=23)
    services.record_reports(
        adverse_event=cast.severe_same_day,
        user=cast.coordinator,
        reported={"sponsor": at(2025, 2, 4, 9, 0)},
    )
    response = review_queue(client_for(cast.investigator), cast.study.code)
    # Pneumonia has no open deadline left: it sorts among the others by grade.
    assert rows(response) == ["Capillary leak", "Pneumonia", "Fatigue", "Rash", "Nausea"]
    api = client_for(cast.investigator).get(
        reverse("api-study-adverse-events", args=[cast.study.code]), {"reviewed": "false"}
    )
    assert [r["term"] for r in api.json()["results"]] == rows(response)


def test_the_nearest_open_deadline_decides_whichever_kind_it_is(cast, client_for):
    regulator_first = report(
        cast.participant,
        cast.coordinator,
        **sae_fields(
            term="Hepatitis",
            relationship="possible",
            expectedness="unexpected",
            onset_date=date(2025, 1, 10),
            awareness_at=at(2025, 1, 10, 9),
        ),
    )
    services.record_reports(
        adverse_event=regulator_first,
        user=cast.coordinator,
        reported={"sponsor": at(2025, 1, 10, 12)},
    )
    # Hepatitis: regulator due 25 January; Pneumonia: sponsor due 4 February.
    response = review_queue(client_for(cast.investigator), cast.study.code)
    assert rows(response)[:2] == ["Hepatitis", "Pneumonia"]


def test_the_review_queue_filters_by_seriousness(cast, client_for):
    response = client_for(cast.investigator).get(
        reverse("safety:review-queue", args=[cast.study.code]), {"serious": "true"}
    )
    assert rows(response) == ["Pneumonia"]


def test_a_blinded_user_sees_events_but_never_an_arm(db, client_for):
    version = load_demo_protocol("ld-il2-mood.yaml")
    participant = enrolled_participant(baseline=BASELINE, version=version)
    assert participant.arm is not None
    blinded = staff(version.study, "blake", Role.COORDINATOR, blinded=True)
    report(participant, blinded, **ae_fields(term="Insomnia", awareness_at=at(2025, 2, 3, 9)))
    client = client_for(blinded)
    text = listing(client, version.study.code).content.decode()
    text += client.get(
        reverse("safety:detail", args=[AdverseEvent.objects.get().pk])
    ).content.decode()
    assert "Insomnia" in text
    for arm in version.arms.all():
        assert arm.name not in text
    api = client.get(reverse("api-study-adverse-events", args=[version.study.code])).json()
    assert api["results"][0]["term"] == "Insomnia"
    assert not any("arm" in key for key in api["results"][0])


@pytest.mark.parametrize(
    ("queue", "index"), [(True, "ae_review_queue_order_idx"), (False, "ae_listing_order_idx")]
)
def test_the_queue_and_the_listing_are_read_in_order_from_their_index(cast, queue, index):
    """The index must match the page's ORDER BY exactly (the queue's is an expression): with
    sorting discouraged, the planner reads the first page from the index or not at all."""
    events = AdverseEvent.objects.live().for_study(cast.study)
    ordered = events.review_queue_order() if queue else events
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = ordered[:50].explain()
    assert index in plan
