"""Journey 3: a serious adverse event reported, reviewed and signed by the investigator."""

import pytest

from safety.models import AdverseEvent
from tests.assessments.helpers_capture import participant
from tests.browser.pages import AdverseEventPages
from tests.factories import PASSWORD
from tests.patients.journey_helpers import staff
from trials.models import Role

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_serious_adverse_event_is_reviewed_and_signed(journey, lang, transactional_db):
    p = participant()
    cora = journey.open(staff(p.study, "cora", Role.COORDINATOR, site=p.site))
    onset = p.visits.get(code="W4").target_date.isoformat()
    AdverseEventPages(cora).report(
        p.pk,
        "sae-reported",
        term="Pneumonia",
        onset_date=onset,
        ongoing=True,
        grade="3",
        serious=True,
        hospitalisation=True,
        relationship="possible",
        expectedness="unexpected",
        action_taken="DOSE NOT CHANGED",
        outcome="NOT RECOVERED/NOT RESOLVED",
        awareness_at=f"{onset}T10:00",
    )
    sae = AdverseEvent.objects.get()
    assert sae.serious and sae.hospitalisation
    assert cora.page.url.endswith(f"/safety/adverse-events/{sae.pk}/")
    assert AdverseEventPages(cora).review_state() == "awaiting"

    ivy = journey.open(staff(p.study, "ivy", Role.INVESTIGATOR))
    review = AdverseEventPages(ivy).review_queue(p.study.code).open_from_queue(sae.pk)
    review.sign("not-my-password")
    assert ivy.errors() == ["password"] and ivy.focused_name() == "password"
    assert review.review_state() == "awaiting"
    review.sign(PASSWORD)
    assert review.review_state() == "reviewed"
    ivy.goto(f"/safety/studies/{p.study.code}/review-queue/", "review-queue-after")
    assert ivy.page.locator(f'main a[href="/safety/adverse-events/{sae.pk}/"]').count() == 0
