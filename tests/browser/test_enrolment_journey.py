"""Journey 1: screen, answer eligibility, the investigator signs from their work list, enrol,
see the calendar."""

import pytest

from patients.models import Participant
from tests.browser.pages import (
    EligibilityPage,
    EnrolPage,
    ParticipantPage,
    ScreeningLog,
    WorkList,
)
from tests.factories import PASSWORD
from tests.patients.journey_helpers import RP_YES, rp_study, staff
from trials.models import Role

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_screen_confirm_enrol_and_the_dose_calendar(journey, lang):
    study = rp_study()
    site = study.sites.get(code="PKUPH")
    carla = journey.open(staff(study, "carla", Role.COORDINATOR, site=site))
    ScreeningLog(carla, study.code).open().new_screening(
        site=site.pk, screening_number="S-100", year_of_birth=1980, sex="M"
    )
    participant = Participant.objects.get(screening_number="S-100")
    eligibility = EligibilityPage(carla, participant.pk)
    assert carla.page.url.endswith(eligibility.path)  # the next step of screening
    eligibility.answer("2026-01-02", RP_YES)
    assert eligibility.is_eligible() and not eligibility.is_signed()

    # The investigator finds the verdict to sign in their work list, not by its address.
    ines = journey.open(staff(study, "ines", Role.INVESTIGATOR))
    work = WorkList(ines).open()
    confirm = EligibilityPage(ines, participant.pk)
    assert work.count("eligibility-to-confirm") == 1 and work.nav_count() == 1
    work.follow("eligibility-to-confirm", confirm.path, "eligibility-to-confirm")
    assert ines.page.url.endswith(confirm.path) and not confirm.is_signed()
    confirm.sign(PASSWORD)
    assert confirm.is_signed()
    work.open("work-list-after-signing")
    assert work.count("eligibility-to-confirm") == 0 and work.nav_count() == 0

    EnrolPage(carla, participant.pk).enrol(consent_date="2026-01-02", baseline_date="2026-01-05")
    page = ParticipantPage(carla, participant.pk)
    assert carla.page.url.endswith(page.path)
    assert page.subject_id() == "PKUPH-001"
    assert page.visits() == ["W0", "W4", "W8", "W12"]
    assert page.dose_cells() == 28
