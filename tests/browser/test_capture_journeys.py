"""Journeys 2 and 4: a W4 visit entered in full (the protocol-defined VITALS among its forms),
and what the forms do with bad input."""

from datetime import timedelta

import pytest

from assessments.models import SteroidDose
from tests.assessments.helpers_capture import capture, participant, rpdai, treg
from tests.browser.pages import DosePage, FormPage, ParticipantPage, VisitPage
from tests.patients.journey_helpers import staff
from trials.models import Role

pytestmark = pytest.mark.browser

LANGS = ["en", "zh-hans"]


@pytest.fixture
def enrolled(transactional_db):
    """An RP participant 20 weeks into the study, W0 entered; cora coordinates the site."""
    p = participant()
    cora = staff(p.study, "cora", Role.COORDINATOR, site=p.site)
    capture(p, "W0", "RPDAI", rpdai(AURIC=True, NASAL=True), user=cora)
    capture(p, "W0", "TREG", treg(), user=cora)
    capture(p, "W0", "STEROID", {"drug": "prednisone", "mg_per_day": 20}, user=cora)
    return p, cora


def rpdai_answers(**present) -> dict:
    return {code: "yes" if value else "no" for code, value in rpdai(**present).items()}


@pytest.mark.parametrize("lang", LANGS)
def test_a_w4_visit_with_rpdai_treg_steroid_vitals_and_doses(journey, lang, enrolled):
    p, cora_user = enrolled
    w4 = p.visits.get(code="W4").target_date.isoformat()
    cora = journey.open(cora_user)
    ParticipantPage(cora, p.pk).open()
    visit = VisitPage(cora, p.pk, "W4").open_from_participant()

    visit.open_form("RPDAI").save("rpdai-saved", visit_date=w4, **rpdai_answers(AURIC=True))
    assert visit.form_status("RPDAI") == "entered"
    visit.open_form("TREG").save("treg-saved", visit_date=w4, **treg(treg_pct="7"))
    assert visit.form_status("TREG") == "entered"
    visit.open_form("STEROID").save(
        "steroid-saved", visit_date=w4, drug="prednisone", mg_per_day="15", weight_kg="70"
    )
    assert visit.form_status("STEROID") == "entered"
    # VITALS, a form the protocol file defines: the server calculates the BMI from weight
    # and height (70 kg, 175 cm: 70 / 1.75² = 22.86), shown once saved.
    visit.open_form("VITALS").save(
        "vitals-saved", visit_date=w4, WEIGHT="70", HEIGHT="175", SYSBP="120", DIABP="80"
    )
    assert visit.form_status("VITALS") == "entered"
    visit.open_form("VITALS")
    assert cora.page.locator("#derived td").inner_text().split() == ["22.9", "kg/m2"]
    assert cora.value("WEIGHT") == "70.0" and cora.value("HEIGHT") == "175.0"
    cora.goto(visit.path, "visit-W4-after-vitals")

    first_dose = p.doses.live().order_by("date").first()
    DosePage(cora, p.pk, first_dose.pk).open().save(
        "dose-saved", given="yes", administered_on=first_dose.date.isoformat()
    )
    page = ParticipantPage(cora, p.pk).open("participant-with-w4")
    assert cora.page.locator(f'#dose-grid td[data-state] a[href$="/{first_dose.pk}/"]').count()
    assert cora.page.locator("#dose-grid td[data-state]").first.get_attribute("data-state") == (
        "given"
    )
    for plot in ("plot-efficacy", "plot-treg", "plot-steroid"):
        canvas = cora.page.locator(f"#{plot}")
        assert canvas.is_visible() and canvas.bounding_box()["height"] > 50
    assert page.visits()[:2] == ["W0", "W4"]


@pytest.mark.parametrize("lang", LANGS)
def test_bad_input_soft_checks_and_a_stale_save(journey, lang, enrolled):
    p, cora_user = enrolled
    w4 = p.visits.get(code="W4").target_date
    cora = journey.open(cora_user)

    # Bad input: the page comes back with every value kept, messages by the fields, and the
    # focus on the first field in error.
    steroid = FormPage(cora, p.pk, "W4", "STEROID").open()
    steroid.save(
        "steroid-bad-input",
        visit_date=(w4 + timedelta(days=3650)).isoformat(),
        drug="prednisone",
        mg_per_day="-5",
        weight_kg="64",
    )
    assert not steroid.saved()
    errors = cora.errors()
    assert errors and "mg_per_day" in errors
    assert cora.focused_name() == errors[0]
    assert cora.value("mg_per_day") == "-5" and cora.value("weight_kg") == "64"

    # An unusual value is a soft check: saved only once confirmed, the confirmation kept.
    steroid.save("steroid-soft-check", visit_date=w4.isoformat(), mg_per_day="300")
    assert steroid.asks_to_confirm() == ["confirm_mg_per_day"]
    assert cora.focused_name() == "mg_per_day"
    assert not SteroidDose.objects.filter(scheduled_visit__code="W4").exists()
    steroid.save("steroid-confirmed", confirm_mg_per_day=True)
    assert steroid.saved()
    assert SteroidDose.objects.get(scheduled_visit__code="W4").mg_per_day == 300

    # Two people open the saved form; the later save is refused and shows the conflict,
    # keeping what its author typed.
    ivy = journey.open(staff(p.study, "ivy", Role.INVESTIGATOR))
    mine = FormPage(cora, p.pk, "W4", "STEROID").open("steroid-cora-opens")
    theirs = FormPage(ivy, p.pk, "W4", "STEROID").open("steroid-ivy-opens")
    mine.save("steroid-cora-saves", mg_per_day="40", reason_for_change="Transcription")
    assert mine.saved()
    theirs.save("steroid-ivy-stale", mg_per_day="30", reason_for_change="Lab letter")
    assert theirs.has_conflict() and not theirs.saved()
    assert ivy.value("mg_per_day") == "30"
    saved = SteroidDose.objects.get(scheduled_visit__code="W4")
    assert saved.mg_per_day == 40
    # The live server's writes reach the audit trail with who and why.
    ivy.goto(f"/audit/assessments.steroiddose/{saved.pk}/", "steroid-audit-trail")
    trail = ivy.history[-1].text
    assert "Transcription" in trail and "cora" in trail
