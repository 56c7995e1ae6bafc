"""Journey 3: a serious adverse event reported, found in the investigator's work list with
its report deadline counting down, reviewed and signed."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from safety.models import AdverseEvent
from tests.assessments.helpers_capture import participant
from tests.browser.pages import AdverseEventPages, WorkList
from tests.factories import PASSWORD
from tests.patients.journey_helpers import staff
from trials.models import Role

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_serious_adverse_event_is_reviewed_and_signed(journey, lang, transactional_db):
    p = participant()
    cora = journey.open(staff(p.study, "cora", Role.COORDINATOR, site=p.site))
    # Known an hour ago at the site: the initial report is due within the next 24 hours.
    aware = timezone.now().astimezone(ZoneInfo(p.site.timezone)) - timedelta(hours=1)
    onset = aware.date().isoformat()
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
        awareness_at=aware.strftime("%Y-%m-%dT%H:%M"),
    )
    sae = AdverseEvent.objects.get()
    assert sae.serious and sae.hospitalisation
    assert cora.page.url.endswith(f"/safety/adverse-events/{sae.pk}/")
    assert AdverseEventPages(cora).review_state() == "awaiting"

    # The investigator's work list shows the event with its deadline counting down.
    ivy = journey.open(staff(p.study, "ivy", Role.INVESTIGATOR))
    work = WorkList(ivy).open()
    detail = f"/safety/adverse-events/{sae.pk}/"
    row = work.row("adverse-events-to-review", detail)
    assert row.count() == 1 and work.nav_count() == 1
    deadline = datetime.fromisoformat(row.locator("td.deadline time").get_attribute("datetime"))
    assert timedelta(hours=22) < deadline - timezone.now() <= timedelta(hours=23)
    countdown = row.locator("td.deadline .badge")
    assert "text-bg-warning" in countdown.get_attribute("class")  # due, not yet overdue
    assert countdown.inner_text().strip()
    # Its whole list (to filter by site or day) shows the same deadline.
    work.see_all("adverse-events-to-review")
    assert ivy.page.url.endswith("/work/adverse-events-to-review/")
    listed = ivy.page.locator(f'main tbody tr:has(a[href="{detail}"]) td.deadline time')
    assert listed.get_attribute("datetime") == deadline.isoformat()
    work.open("work-list-again")
    work.follow("adverse-events-to-review", detail, "ae-to-review")
    review = AdverseEventPages(ivy)
    review.sign("not-my-password")
    assert ivy.errors() == ["password"] and ivy.focused_name() == "password"
    assert review.review_state() == "awaiting"
    review.sign(PASSWORD)
    assert review.review_state() == "reviewed"
    ivy.goto(f"/safety/studies/{p.study.code}/review-queue/", "review-queue-after")
    assert ivy.page.locator(f'main a[href="{detail}"]').count() == 0
    work.open("work-list-after-review")
    assert work.count("adverse-events-to-review") == 0 and work.nav_count() == 0
