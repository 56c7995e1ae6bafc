"""Faster entry (issue 14): an RPDAI entered with the keyboard alone, the negative groups
with "None of the below", every item still saved as an explicit answer."""

import pytest

from assessments import instruments
from assessments.models import InstrumentResponse
from tests.assessments.helpers_capture import capture, participant, treg
from tests.browser.keyboard import Keyboard
from tests.browser.pages import FormPage
from tests.patients.journey_helpers import staff
from trials.models import Role

pytestmark = pytest.mark.browser

LANGS = ["en", "zh-hans"]
BUTTON = "[data-none-below]"
RPDAI_GROUPS = 9


def group_button(code: str) -> str:
    return f'#group-{code} [data-none-below="{code}"]'


@pytest.fixture
def dated(transactional_db):
    """An RP participant whose W0 and W4 are dated (their Treg panels entered), so that the
    RPDAI forms open with the visit date filled in; cora coordinates the site."""
    p = participant()
    cora = staff(p.study, "cora", Role.COORDINATOR, site=p.site)
    for code in ("W0", "W4"):
        capture(p, code, "TREG", treg(), user=cora)
    return p, cora


def saved_rpdai(p, code) -> dict:
    return InstrumentResponse.objects.get(
        scheduled_visit__participant=p, scheduled_visit__code=code, instrument="RPDAI"
    ).answers


@pytest.mark.parametrize("lang", LANGS)
def test_an_rpdai_entered_with_the_keyboard_alone(journey, lang, dated):
    p, cora_user = dated
    cora = journey.open(cora_user)
    codes = instruments.get("RPDAI").item_codes

    # All negative: skip link, Tab to the first group, Enter on each group, Enter to save.
    FormPage(cora, p.pk, "W0", "RPDAI").open("rpdai-w0")
    keys = Keyboard(cora).skip_to_main().tab_to(BUTTON)
    assert keys.focused(group_button("GENERAL")) and keys.focus_is_visible()
    for _ in range(RPDAI_GROUPS):
        keys.press("Enter")  # fills the group, the focus moves on to the next one
    assert not cora.axe()
    keys.submit("rpdai-w0-saved")
    assert saved_rpdai(p, "W0") == dict.fromkeys(codes, False)  # every item, explicitly
    # 19 today: Tab and Enter on the skip link, 7 Tabs through the breadcrumb and the visit
    # date's day, month and year, 9 Enters, Enter on Save; a mouse needs 27 clicks and Save.
    assert keys.presses <= 20, f"{keys.presses} key presses for an all-negative RPDAI"

    # Auricular chondritis present: Space on its "yes", then the group's button fills the
    # rest of the group and leaves it as it is.
    FormPage(cora, p.pk, "W4", "RPDAI").open("rpdai-w4")
    keys = Keyboard(cora).skip_to_main().tab_to(BUTTON)
    keys.press("Enter").press("Enter")  # General, Joints and chest wall
    assert keys.focused(group_button("EARNOSE"))
    keys.press("Tab")
    assert keys.focused('input[name="AURIC"][value="yes"]') and keys.focus_is_visible()
    keys.press("Space")
    keys.tab_to(group_button("EARNOSE"), backwards=True).press("Enter")
    assert keys.focused(group_button("EYES"))
    assert cora.page.locator('input[name="AURIC"][value="yes"]').is_checked()
    # Arrow keys move within an item: Uveitis answered with them, then the group's button.
    keys.press("Tab").press("Tab").press("Tab")
    assert keys.focused('input[name="UVEITIS"][value="yes"]')
    keys.press("ArrowRight")
    assert cora.page.locator('input[name="UVEITIS"][value="no"]').is_checked()
    keys.tab_to(group_button("EYES"), backwards=True)
    for _ in range(RPDAI_GROUPS - 3):  # Eyes to Airways
        keys.press("Enter")
    keys.submit("rpdai-w4-saved")
    assert saved_rpdai(p, "W4") == {**dict.fromkeys(codes, False), "AURIC": True}
