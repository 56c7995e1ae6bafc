"""The participant page's capture panel: visits × forms grid, dose calendar with adherence,
and plots over study weeks, in a bounded number of queries."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import dosing, services
from tests.assessments.helpers_capture import (
    HAMD_ZERO,
    capture,
    four_visits_of_data,
    participant,
    rp_cast,
    rpdai,
    treg,
)
from tests.factories import MembershipFactory, UserFactory, load_demo_protocol
from trials.models import Role


@pytest.fixture
def cast(db):
    return rp_cast()


def plot_data(html: str) -> dict:
    match = re.search(
        r'<script id="capture-plot-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "no plot data on the page"
    return json.loads(match.group(1))


def test_the_page_of_a_participant_with_four_visits_of_data_draws_the_plots(cast, client_for):
    p = participant()
    four_visits_of_data(p, cast.cora)
    response = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for canvas in ("plot-efficacy", "plot-treg", "plot-steroid"):
        assert f'<canvas id="{canvas}"' in html
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js"></script>' in html
    # Every script and stylesheet is served by the project (hospital networks are closed);
    # a search for "cdn" in the page failed whenever a random CSRF token contained it.
    assets = re.findall(r'<script[^>]*\ssrc="([^"]*)"|<link[^>]*\shref="([^"]*)"', html)
    assert assets and all(url.startswith("/") for pair in assets for url in pair if url)
    data = plot_data(html)
    assert data["efficacy"]["label"].startswith("Relapsing Polychondritis Disease Activity")
    assert [(pt["visit"], pt["x"], pt["y"]) for pt in data["efficacy"]["points"]] == [
        ("W0", 0.0, 9 + 9 + 3 + 1),
        ("W4", 4.0, 9 + 9 + 3),
        ("W8", 8.0, 9 + 3),
        ("W12", 12.0, 9),
    ]
    assert [pt["y"] for pt in data["treg"]["pct"]] == [5.0, 7.0, 9.0, 11.0]
    assert [pt["y"] for pt in data["treg"]["abs"]] == [40.0, 56.0, 72.0, 88.0]
    assert [pt["y"] for pt in data["steroid"]["points"]] == [20.0, 16.0, 12.0, 8.0]


def test_the_chart_library_is_served_from_static_files():
    path = finders.find("vendor/chartjs/chart.umd.min.js")
    assert path, "Chart.js is not vendored"
    with open(path, encoding="utf-8") as handle:
        assert "Chart.js v4" in handle.read(400)
    assert finders.find("vendor/chartjs/LICENSE.md")


def test_the_grid_shows_each_visit_and_form_with_its_status(cast, client_for):
    p = participant()
    capture(p, "W0", "RPDAI", rpdai(), user=cast.cora)
    capture(p, "W0", "TREG", treg(), user=cast.cora)
    html = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk])).content.decode()
    grid = html[
        html.index('id="visit-grid"') : html.index("</table>", html.index('id="visit-grid"'))
    ]
    assert [re.sub(r"<.*?>", "", th) for th in re.findall(r"<th title=.*?>(.*?)</th>", grid)] == [
        "ELIG",
        "RPDAI",
        "TREG",
        "STEROID",
        "VITALS",
        "CONMED",
        "MEDHIST",
        "AE",
    ]
    w0 = grid[grid.index('data-visit="W0"') : grid.index('data-visit="W4"')]
    assert w0.count("form-status-entered") == 2 and w0.count("form-status-missing") == 4
    assert "see eligibility" in w0
    assert reverse("assessments:visit_form", args=[p.pk, "W0", "STEROID"]) in w0
    assert "No plots" not in html and 'id="no-plots"' not in html  # RPDAI and Treg entered


def test_without_data_the_panel_says_plots_come_later(cast, client_for):
    p = participant()
    html = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk])).content.decode()
    assert 'id="no-plots"' in html
    assert "capture-plot-data" not in html


def test_the_dose_calendar_shows_adherence(cast, client_for):
    p = participant()
    for dose in p.doses.order_by("date")[:3]:
        dosing.record_dose(planned_dose=dose, user=cast.cora, given=True, administered_on=dose.date)
    response = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk]))
    html = response.content.decode()
    assert "Adherence: <strong>10.7 %</strong> (3 of 28 doses due so far given" in html
    grid = html[html.index('id="dose-grid"') :]
    assert grid.count('data-state="given"') == 3
    assert grid.count('data-state="missed"') == 25


def test_the_efficacy_plot_follows_the_study_instrument(db, client_for):
    version = load_demo_protocol("ld-il2-mood.yaml")
    p = participant(version=version)
    user = UserFactory(username="mario", password=None)
    MembershipFactory(user=user, study=version.study, site=p.site, role=Role.INVESTIGATOR)
    capture(p, "W0", "HAMD17", HAMD_ZERO | {"H1": 3}, user=user)
    html = client_for(user).get(reverse("patients:participant", args=[p.pk])).content.decode()
    data = plot_data(html)
    assert data["efficacy"]["label"].startswith("Hamilton")
    assert [pt["y"] for pt in data["efficacy"]["points"]] == [3]


def render_panel(p, user):
    template = Template("{% load capture_tags %}{% participant_panel participant %}")
    return template.render(Context({"participant": p, "user": user}))


def test_the_panel_query_count_does_not_grow_with_visits_forms_or_doses(cast):
    p = participant()
    four_visits_of_data(p, cast.cora)
    with CaptureQueriesContext(connection) as before:
        render_panel(p, cast.cora)
    for n in range(3):
        day = p.baseline_date + timedelta(days=30 + n)
        extra = services.add_unscheduled_visit(
            participant=p, visit_date=day, reason="Flare", user=cast.cora
        )
        capture(p, extra.code, "RPDAI", rpdai(AURIC=True), user=cast.cora, visit_date=day)
        capture(p, extra.code, "TREG", treg(), user=cast.cora, visit_date=day)
    for dose in p.doses.order_by("date")[:10]:
        dosing.record_dose(planned_dose=dose, user=cast.cora, given=True, administered_on=dose.date)
    with CaptureQueriesContext(connection) as after:
        html = render_panel(p, cast.cora)
    assert len(after.captured_queries) == len(before.captured_queries) <= 9
    assert "U3" in html


def test_the_participant_page_stays_within_a_query_budget(
    cast, client_for, django_assert_max_num_queries
):
    p = participant()
    four_visits_of_data(p, cast.cora)
    client = client_for(cast.cora)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("patients:participant", args=[p.pk])).status_code == 200


def test_a_monitor_sees_the_panel_without_entry_buttons(cast, client_for):
    p = participant()
    html = client_for(cast.molly).get(reverse("patients:participant", args=[p.pk])).content.decode()
    assert 'id="visit-grid"' in html
    assert "Add unscheduled visit" not in html


def test_a_past_visit_with_nothing_recorded_shows_as_overdue_and_the_open_window_as_due(
    db, client_for
):
    from tests.assessments.helpers_capture import participant, rp_cast, site_today

    cast = rp_cast()
    p = participant(baseline=site_today() - timedelta(days=28))  # W4's window is open today
    page = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk])).content.decode()
    w0 = page.split('<tr data-visit="W0">', 1)[1].split("</tr>", 1)[0]
    w4 = page.split('<tr data-visit="W4">', 1)[1].split("</tr>", 1)[0]
    w8 = page.split('<tr data-visit="W8">', 1)[1].split("</tr>", 1)[0]
    assert "Overdue" in w0
    assert "Due: in window" in w4
    assert "Upcoming" in w8
