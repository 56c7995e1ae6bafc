"""The coordinator dashboard: per site, today's and this week's visits (due, in window,
overdue), doses due today, forms missing, deviations; only the user's sites; bounded
queries."""

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.assessments.helpers_capture import (
    capture,
    participant,
    rp_cast,
    rpdai,
    site_today,
    visit,
)


@pytest.fixture
def cast(db):
    return rp_cast()


def boards_for(client):
    response = client.get(reverse("assessments:dashboard"))
    assert response.status_code == 200
    return {board.site.code: board for board in response.context["boards"]}, response


def states(items):
    return {(item.visit.participant.subject_id, item.visit.code): item.state for item in items}


def test_todays_weeks_and_overdue_visits_and_doses_due_today(cast, client_for):
    today = site_today()
    participant(baseline=today - timedelta(days=28), subject_id="DUE")  # W4 target today
    participant(baseline=today - timedelta(days=29), subject_id="WIN")  # W4 target yesterday
    participant(baseline=today - timedelta(days=22), subject_id="WEEK")  # W4 opens in 3 days
    participant(baseline=today - timedelta(days=40), subject_id="LATE")  # W4 window closed
    boards, response = boards_for(client_for(cast.cora))
    board = boards["PKUPH"]
    assert board.today == today
    assert states(board.today_visits) == {("DUE", "W4"): "due_today", ("WIN", "W4"): "in_window"}
    assert states(board.week_visits) == {("WEEK", "W4"): "this_week"}
    overdue = states(board.overdue_visits)
    assert overdue[("LATE", "W4")] == "overdue"
    assert ("LATE", "W0") in overdue and ("DUE", "W0") in overdue
    # Doses today: DUE's first maintenance dose (day 29) and WEEK's induction dose (day 23).
    assert sorted(d.participant.subject_id for d in board.doses_today) == ["DUE", "WEEK"]
    # Past doses with nothing recorded: DUE 20, WIN 20 + day 29, WEEK days 1-22 (16), LATE 22.
    assert board.doses_unrecorded == 20 + 21 + 16 + 22
    html = response.content.decode()
    assert reverse("assessments:visit", args=[visit_owner(board, "DUE").pk, "W4"]) in html


def visit_owner(board, subject_id):
    return next(
        item.visit.participant
        for item in board.today_visits
        if item.visit.participant.subject_id == subject_id
    )


def test_done_visits_with_forms_missing_and_deviations_are_listed(cast, client_for):
    p = participant(subject_id="GAPS")
    capture(p, "W0", "RPDAI", rpdai(), user=cast.cora)
    w4 = visit(p, "W4")
    capture(p, "W4", "RPDAI", rpdai(), user=cast.cora, visit_date=w4.window_end + timedelta(days=4))
    board = boards_for(client_for(cast.cora))[0]["PKUPH"]
    assert [(v.code, forms) for v, forms in board.missing_forms] == [
        ("W0", ["TREG", "STEROID", "VITALS", "CONMED", "MEDHIST"]),
        ("W4", ["TREG", "STEROID", "VITALS"]),
    ]
    assert board.deviations == 1


def test_each_user_sees_only_the_sites_they_cover(cast, client_for):
    today = site_today()
    participant(baseline=today - timedelta(days=28), subject_id="AT-PKUPH")
    participant(baseline=today - timedelta(days=28), subject_id="AT-OTHER", site=cast.other_site)
    cora_boards = boards_for(client_for(cast.cora))[0]
    assert list(cora_boards) == ["PKUPH"]
    assert "AT-OTHER" not in str(states(cora_boards["PKUPH"].overdue_visits))
    ivy_boards = boards_for(client_for(cast.ivy))[0]
    assert set(ivy_boards) == {"PKUPH", "OTHER"}
    other = ivy_boards["OTHER"]
    assert {s for s, _code in states(other.overdue_visits)} == {"AT-OTHER"}
    html = client_for(cast.charlie).get(reverse("assessments:dashboard")).content.decode()
    assert "You do not cover any site." in html
    assert "AT-PKUPH" not in html


def test_the_dashboard_query_count_does_not_grow_with_participants(cast, client_for):
    today = site_today()
    client = client_for(cast.ivy)

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            boards_for(client)
        return len(queries.captured_queries)

    participant(baseline=today - timedelta(days=28))
    one = count_queries()
    for n in range(4):
        p = participant(baseline=today - timedelta(days=20 + 3 * n), site=cast.other_site)
        capture(p, "W0", "RPDAI", rpdai(), user=cast.ivy)
    assert count_queries() == one


def test_the_dashboard_stays_within_a_query_budget(cast, client_for, django_assert_max_num_queries):
    today = site_today()
    for n in range(5):
        participant(baseline=today - timedelta(days=10 * n))
    client = client_for(cast.ivy)
    with django_assert_max_num_queries(15):
        boards_for(client)
