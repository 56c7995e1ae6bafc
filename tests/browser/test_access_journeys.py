"""Journeys 5 and 6: what a monitor and a blinded coordinator see and may do.

A monitor reads everything at their sites, finds every input disabled and every write
refused with the app's own page; a blinded user's whole walk shows no arm anywhere.
"""

import re
from datetime import UTC, datetime, time

import pytest

from assessments.models import DoseAdministration
from patients.models import Participant
from safety.models import AdverseEvent
from tests.assessments.helpers_capture import capture, participant, rpdai, treg
from tests.browser.pages import FormPage, ParticipantPage, VisitPage
from tests.patients.journey_helpers import enrolled_in_mood, staff
from tests.safety.helpers_safety import ae_fields, report
from trials.models import Role

pytestmark = pytest.mark.browser

LANGS = ["en", "zh-hans"]


def an_adverse_event(p, user):
    awareness = datetime.combine(p.baseline_date, time(10), tzinfo=UTC)
    return report(p, user, **ae_fields(onset_date=p.baseline_date, awareness_at=awareness))


@pytest.mark.parametrize("lang", LANGS)
def test_a_monitor_reads_everything_and_can_change_nothing(journey, lang, transactional_db):
    p = participant()
    cora = staff(p.study, "cora", Role.COORDINATOR, site=p.site)
    capture(p, "W0", "RPDAI", rpdai(AURIC=True), user=cora)
    capture(p, "W0", "TREG", treg(), user=cora)
    dose = p.doses.live().order_by("date").first()
    molly = journey.open(staff(p.study, "molly", Role.MONITOR))

    molly.goto(f"/studies/{p.study.code}/", "study")
    molly.goto(f"/participants/studies/{p.study.code}/", "screening-log")
    assert molly.page.locator(f'main a[href="/participants/{p.pk}/"]').count() == 1
    ParticipantPage(molly, p.pk).open()
    visit = VisitPage(molly, p.pk, "W0").open_from_participant()
    assert visit.form_status("RPDAI") == "entered"
    for form_code in ("RPDAI", "TREG"):
        form = FormPage(molly, p.pk, "W0", form_code).open()
        assert molly.page.locator("#read-only").count() == 1
        assert form.inputs_enabled() == 0
    molly.goto(f"/capture/participants/{p.pk}/doses/", "dose-log")
    molly.goto(f"/participants/{p.pk}/eligibility/", "eligibility")
    assert FormPage(molly, p.pk, "W0", "RPDAI").inputs_enabled() == 0
    molly.goto(f"/audit/patients.participant/{p.pk}/", "audit-trail")

    # Every write is refused with the app's own page.
    refused = [
        (f"/capture/participants/{p.pk}/visits/W4/forms/RPDAI/", {"AURIC": "yes"}),
        (f"/capture/participants/{p.pk}/doses/{dose.pk}/", {"given": "yes"}),
        (
            f"/participants/{p.pk}/end/",
            {"outcome": "withdrawn", "end_date": p.site.today().isoformat(), "reason": "x"},
        ),
        (f"/safety/participants/{p.pk}/adverse-events/new/", {"term": "x"}),
        (f"/participants/studies/{p.study.code}/new/", {"screening_number": "S-9"}),
    ]
    for n, (path, data) in enumerate(refused):
        molly.post(path, f"write-refused-{n}", data, status=403)
        assert molly.is_styled_error_page(), path
    molly.goto(f"/safety/participants/{p.pk}/adverse-events/new/", "ae-page-refused", status=403)
    assert molly.is_styled_error_page()
    assert not AdverseEvent.objects.exists()
    assert not DoseAdministration.objects.exists()
    p.refresh_from_db()
    assert p.status == "enrolled"


@pytest.mark.parametrize("lang", LANGS)
def test_a_blinded_coordinator_never_sees_an_arm(journey, lang, transactional_db):
    mood = enrolled_in_mood()
    p: Participant = mood["participant"]
    arms = list(p.protocol_version.arms.all())
    assert p.arm in arms
    an_adverse_event(p, mood["investigator"])
    carla = journey.open(mood["coordinator"])

    carla.goto("/", "home")
    carla.goto(f"/studies/{p.study.code}/", "study")
    carla.goto(f"/studies/{p.study.code}/protocol/", "protocol")
    carla.goto(f"/participants/studies/{p.study.code}/", "screening-log")
    ParticipantPage(carla, p.pk).open()
    VisitPage(carla, p.pk, "W0").open_from_participant()
    carla.goto(f"/capture/participants/{p.pk}/doses/", "dose-log")
    carla.goto(f"/participants/{p.pk}/eligibility/", "eligibility")
    carla.goto(f"/audit/patients.participant/{p.pk}/", "audit-trail")
    ae = AdverseEvent.objects.get()
    carla.goto(f"/safety/adverse-events/{ae.pk}/", "adverse-event")
    carla.goto(f"/safety/studies/{p.study.code}/adverse-events/", "ae-listing")
    carla.goto("/capture/dashboard/", "dashboard")  # the home page's work list now
    carla.goto("/notifications/", "inbox")
    carla.goto(f"/participants/{p.pk}/unblind/", "unblind-refused", status=403)
    assert carla.is_styled_error_page()

    # The arms' codes and names as the app labels them (the protocol's dosing text may say
    # "matching placebo": that is no one's allocation).
    seen = carla.everything_seen()
    for arm in arms:
        assert not re.search(rf"\b{re.escape(arm.code)}\b", seen), arm.code
        assert not re.search(rf"\b{re.escape(arm.name)}", seen), arm.name
    # The same look finds the arm on the page of the unblinded study admin.
    una = journey.open(mood["admin"])
    ParticipantPage(una, p.pk).open("participant-unblinded")
    assert re.search(rf"\b{re.escape(p.arm.name)}", una.everything_seen())
