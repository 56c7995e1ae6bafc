"""Small screens, the keyboard's way in, and the app's own error pages, in Chromium."""

import pytest

from tests.assessments.helpers_capture import capture, participant, rpdai
from tests.browser.pages import PHONE
from tests.patients.journey_helpers import staff
from trials.models import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def site_people(transactional_db):
    p = participant()
    cora = staff(p.study, "cora", Role.COORDINATOR, site=p.site)
    capture(p, "W0", "RPDAI", rpdai(AURIC=True), user=cora)
    return p, cora


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_work_pages_fit_a_375_px_phone(journey, lang, site_people):
    """Wide tables scroll inside their own box; the page itself never scrolls sideways."""
    p, cora_user = site_people
    cora = journey.open(cora_user, viewport=PHONE)
    pages = [
        ("/", "home-work-list"),
        (f"/participants/{p.pk}/", "participant"),
        (f"/capture/participants/{p.pk}/visits/W0/", "visit"),
        (f"/capture/participants/{p.pk}/doses/", "dose-log"),
        (f"/participants/studies/{p.study.code}/", "screening-log"),
        (f"/safety/studies/{p.study.code}/adverse-events/", "ae-listing"),
        (f"/studies/{p.study.code}/", "study"),
        ("/notifications/", "inbox"),
    ]
    too_wide = []
    for path, step in pages:
        cora.goto(path, f"phone-{step}")
        if not cora.has_no_horizontal_scroll():
            too_wide.append(path)
    assert not too_wide
    # The visit grid is there to be scrolled, within its box.
    cora.goto(f"/participants/{p.pk}/", "phone-participant-again")
    grid = cora.page.locator("#visit-grid")
    assert grid.locator("xpath=..").get_attribute("class") == "table-responsive"


def test_the_keyboard_skips_to_the_main_content(journey, site_people):
    p, cora_user = site_people
    cora = journey.open(cora_user)
    cora.goto(f"/participants/{p.pk}/", "participant")
    cora.page.keyboard.press("Tab")
    skip = cora.page.locator("a.skip-link")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.is_visible()
    cora.page.keyboard.press("Enter")
    assert cora.page.evaluate("() => document.activeElement.id") == "main"


def test_another_sites_record_is_the_styled_not_found_page(journey, site_people):
    p, _cora = site_people
    other = p.study.sites.create(code="ELSE", name="Elsewhere", timezone="UTC")
    otto = journey.open(staff(p.study, "otto", Role.COORDINATOR, site=other))
    otto.goto(f"/participants/{p.pk}/", "not-found", status=404)
    assert otto.is_styled_error_page()
    page = otto.history[-1]
    assert p.screening_number not in page.text and p.screening_number not in page.html
