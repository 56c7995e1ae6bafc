"""The browser runs only the application's own static scripts and styles (a
Content-Security-Policy without 'unsafe-inline'), so no template may carry an inline script,
event handler or style; and the API schema is not published to strangers."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.assessments.helpers_capture import four_visits_of_data, participant, rp_cast
from tests.platform.helpers_security import EVENT_HANDLER, INLINE_SCRIPT, STYLE

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def test_every_page_carries_a_policy_that_allows_only_the_sites_own_files(client, alice):
    client.force_login(alice)
    policy = directives(client.get(reverse("home")))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]


def test_the_log_in_page_and_the_api_carry_the_policy_too(client, db):
    assert "default-src 'self'" in client.get(reverse("login")).headers["Content-Security-Policy"]
    answer = client.get("/api/v1/studies/")
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


def test_no_template_has_an_inline_script_handler_or_style():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE):
            for match in pattern.finditer(text):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}")
    assert offenders == []


def test_the_participant_plots_are_drawn_by_a_static_script(db, client_for):
    cast = rp_cast()
    p = participant()
    four_visits_of_data(p, cast.cora)
    html = client_for(cast.cora).get(reverse("patients:participant", args=[p.pk])).content.decode()
    assert '<script src="/static/js/participant-plots.js"></script>' in html
    assert INLINE_SCRIPT.search(html) is None
    script = Path(finders.find("js/participant-plots.js")).read_text(encoding="utf-8")
    assert 'getElementById("capture-plot-data")' in script


def test_the_protocol_print_button_works_without_an_inline_handler(db, client_for):
    cast = rp_cast()
    html = client_for(cast.cora).get(reverse("trials:protocol", args=[cast.study.code]))
    html = html.content.decode()
    assert "data-print" in html
    assert EVENT_HANDLER.search(html) is None
    assert "[data-print]" in Path(finders.find("js/app.js")).read_text(encoding="utf-8")


def test_the_api_schema_needs_a_log_in(client, alice):
    assert client.get(reverse("api-schema")).status_code in (401, 403)
    client.force_login(alice)
    assert client.get(reverse("api-schema")).status_code == 200
