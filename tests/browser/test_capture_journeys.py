"""Journeys 2 and 4: a W4 visit entered in full (the protocol-defined VITALS among its forms),
what the forms do with bad input, and CONMED's repeating rows."""

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

    # So is an unusual value on a form the protocol file defines (VITALS' soft range).
    vitals = FormPage(cora, p.pk, "W4", "VITALS").open()
    vitals.save(
        "vitals-soft-check", visit_date=w4.isoformat(), WEIGHT="160", SYSBP="120", DIABP="80"
    )
    assert vitals.asks_to_confirm() == ["confirm_WEIGHT"] and not vitals.saved()
    assert cora.value("WEIGHT") == "160"
    vitals.save("vitals-confirmed", confirm_WEIGHT=True)
    assert vitals.saved()

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


@pytest.mark.parametrize("lang", LANGS)
def test_concomitant_medications_branch_and_repeat(journey, lang, enrolled):
    """CONMED, a protocol form with repeating rows: the stop date is asked only of a drug no
    longer taken (form-branching.js), "Add a row" keeps what was typed, and the prednisone
    equivalent is summed over the drugs still taken."""
    p, cora_user = enrolled
    cora = journey.open(cora_user)
    started = (p.baseline_date - timedelta(days=90)).isoformat()
    stopped = (p.baseline_date - timedelta(days=10)).isoformat()
    conmed = FormPage(cora, p.pk, "W0", "CONMED").open()
    stop_date = cora.page.locator('[id="div_id_CM.1.CMENDTC"]')
    assert stop_date.is_hidden()
    cora.fill(
        **{
            "visit_date": p.baseline_date.isoformat(),
            "CM.1.CMTRT": "Prednisone",
            "CM.1.CMDOSE": "20",
            "CM.1.CMDOSU": "mg",
            "CM.1.CMROUTE": "PO",
            "CM.1.CMFREQ": "QD",
            "CM.1.CMSTDTC": started,
            "CM.1.CMGC": "prednisone",
        }
    )
    cora.fill(**{"CM.1.CMONGO": "Y"})
    assert stop_date.is_hidden()
    cora.fill(**{"CM.1.CMONGO": "N"})
    assert stop_date.is_visible()
    cora.fill(**{"CM.1.CMENDTC": stopped})

    conmed.add_row("CM", "conmed-row-added")
    assert not conmed.saved()
    assert cora.value("CM.1.CMTRT") == "Prednisone" and cora.value("CM.1.CMENDTC") == stopped
    assert stop_date.is_visible()  # the branching holds on the page the server sent back
    assert cora.page.locator('[id="div_id_CM.2.CMENDTC"]').is_hidden()
    conmed.save(
        "conmed-saved",
        **{
            "CM.2.CMTRT": "Methylprednisolone",
            "CM.2.CMDOSE": "4",
            "CM.2.CMDOSU": "mg",
            "CM.2.CMROUTE": "PO",
            "CM.2.CMFREQ": "BID",
            "CM.2.CMSTDTC": started,
            "CM.2.CMONGO": "Y",
            "CM.2.CMGC": "methylprednisolone",
        },
    )
    assert conmed.saved()
    assert VisitPage(cora, p.pk, "W0").form_status("CONMED") == "entered"
    conmed.open("conmed-reopened")
    derived = cora.page.eval_on_selector_all(
        "#derived td", "cells => cells.map(c => c.innerText.trim())"
    )
    # The total taken now, each row's daily equivalent, then each row's taken now: the
    # stopped prednisone keeps its 20 mg/day (a steroid dose dated while it was taken counts
    # it) but is not taken now; 4 mg of methylprednisolone twice a day is 4 × 1.25 × 2 = 10
    # mg/day of prednisone.
    assert [cell.split()[0] for cell in derived] == ["10.00", "20.00", "10.00", "0.00", "10.00"]
