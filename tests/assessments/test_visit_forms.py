"""Entering forms at visits: scores and derived values computed on the server, messages next
to their fields with the typed input kept, the first form dating the visit, edits with a
reason, and who may do what."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import InstrumentAlert, InstrumentResponse, SteroidDose, TregPanel
from audit.history import history_for
from patients.models import VisitStatus
from tests.assessments.helpers_capture import (
    HAMD_ZERO,
    PHQ_ZERO,
    capture,
    checked,
    field_error,
    participant,
    phq9_version,
    rp_cast,
    rpdai,
    rpdai_post,
    treg,
    typed,
    visit,
)
from tests.factories import MembershipFactory, UserFactory, load_demo_protocol
from trials.models import Role


def form_url(p, code, form):
    return reverse("assessments:visit_form", args=[p.pk, code, form])


@pytest.fixture
def cast(db):
    return rp_cast()


def test_rpdai_is_scored_on_the_server_and_dates_the_visit(cast, client_for):
    p = participant()
    w0 = visit(p, "W0")
    data = {"visit_date": w0.target_date.isoformat(), **rpdai_post(rpdai(AURIC=True, CRP=True))}
    data["total"] = "0"  # a typed total is not a field of the form: ignored
    response = client_for(cast.cora).post(form_url(p, "W0", "RPDAI"), data)
    assert response.status_code == 302
    saved = InstrumentResponse.objects.get(scheduled_visit=w0, instrument="RPDAI")
    assert saved.total == 9 + 3
    assert saved.answers["AURIC"] is True and saved.answers["FEVER"] is False
    assert saved.entered_by == cast.cora
    w0.refresh_from_db()
    assert (w0.status, w0.actual_date) == (VisitStatus.DONE, w0.target_date)


def test_the_saved_score_is_shown_with_the_form(cast, client_for):
    p = participant()
    capture(p, "W0", "RPDAI", rpdai(NASAL=True), user=cast.cora)
    html = client_for(cast.ivy).get(form_url(p, "W0", "RPDAI")).content.decode()
    assert '<strong id="total">9</strong>' in html
    assert 'name="reason_for_change"' in html


def test_an_rpdai_item_left_out_and_two_exclusive_items_show_next_to_their_fields(cast, client_for):
    p = participant()
    answers = rpdai_post(rpdai(RESPCH=True, RESPCHF=True))
    del answers["FEVER"]
    response = client_for(cast.cora).post(
        form_url(p, "W0", "RPDAI"), {"visit_date": p.baseline_date.isoformat(), **answers}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This item is required." in field_error(html, "FEVER")
    assert "one organ at two severities" in field_error(html, "RESPCHF")
    # What was chosen stays chosen.
    assert checked(html, "RESPCH") == "yes"
    assert checked(html, "RESPCHF") == "yes"
    assert checked(html, "AURIC") == "no"
    assert checked(html, "FEVER") is None
    assert not InstrumentResponse.objects.exists()
    assert visit(p, "W0").actual_date is None


def test_an_out_of_range_hamd_item_keeps_what_was_typed(db, client_for):
    version = load_demo_protocol("ld-il2-mood.yaml")
    p = participant(version=version)
    user = UserFactory(username="mario")
    MembershipFactory(user=user, study=version.study, site=p.site, role=Role.INVESTIGATOR)
    data = {k: str(v) for k, v in HAMD_ZERO.items()} | {"H1": "7", "H2": "two"}
    data["visit_date"] = p.baseline_date.isoformat()
    html = client_for(user).post(form_url(p, "W0", "HAMD17"), data).content.decode()
    assert "Must be between 0 and 4." in field_error(html, "H1")
    assert "Must be a whole number." in field_error(html, "H2")
    assert typed(html, "H1") == "7"
    assert typed(html, "H2") == "two"
    assert not InstrumentResponse.objects.exists()


def test_a_bad_visit_date_shows_next_to_it(cast, client_for):
    p = participant()
    data = {"visit_date": "2026-13-40", **rpdai_post(rpdai())}
    html = client_for(cast.cora).post(form_url(p, "W0", "RPDAI"), data).content.decode()
    assert "Enter a valid date." in field_error(html, "visit_date")
    assert typed(html, "visit_date") == "2026-13-40"


def test_a_visit_date_in_the_future_is_refused(cast, client_for):
    from tests.assessments.helpers_capture import site_today

    p = participant(baseline=site_today())
    tomorrow = p.baseline_date.toordinal() + 1
    data = {"visit_date": p.baseline_date.fromordinal(tomorrow).isoformat(), **rpdai_post(rpdai())}
    html = client_for(cast.cora).post(form_url(p, "W0", "RPDAI"), data).content.decode()
    assert "cannot be in the future" in field_error(html, "visit_date")


def test_treg_panel_rules_show_next_to_their_fields_and_keep_the_input(cast, client_for):
    p = participant()
    data = {
        "visit_date": p.baseline_date.isoformat(),
        "lymphocytes_per_ul": "lots",
        "cd4_per_ul": "800",
        "treg_pct_of_cd4": "60",
        "tcon_pct_of_cd4": "50",
    }
    html = client_for(cast.cora).post(form_url(p, "W0", "TREG"), data).content.decode()
    assert "Enter a number." in field_error(html, "lymphocytes_per_ul")
    assert typed(html, "lymphocytes_per_ul") == "lots"
    assert not TregPanel.objects.exists()

    data["lymphocytes_per_ul"] = "1500"
    html = client_for(cast.cora).post(form_url(p, "W0", "TREG"), data).content.decode()
    assert "cannot add up to more than 100" in field_error(html, "treg_pct_of_cd4")
    assert "cannot add up to more than 100" in field_error(html, "tcon_pct_of_cd4")
    assert typed(html, "treg_pct_of_cd4") == "60"
    assert not TregPanel.objects.exists()


def test_a_treg_percentage_over_100_and_a_missing_cd4_are_refused(cast, client_for):
    p = participant()
    data = {
        "visit_date": p.baseline_date.isoformat(),
        "lymphocytes_per_ul": "1500",
        "treg_pct_of_cd4": "101",
        "tcon_pct_of_cd4": "50",
    }
    html = client_for(cast.cora).post(form_url(p, "W0", "TREG"), data).content.decode()
    assert "between 0 and 100" in field_error(html, "treg_pct_of_cd4")
    assert "CD4+ cells per µL or CD4+ % of lymphocytes" in field_error(html, "cd4_per_ul")


def test_treg_derived_values_and_change_from_baseline(cast, client_for):
    p = participant()
    capture(
        p,
        "W0",
        "TREG",
        treg(lymphocytes=1500, cd4=800, treg_pct="5", tcon_pct="60"),
        user=cast.cora,
    )
    capture(
        p,
        "W4",
        "TREG",
        treg(lymphocytes=1400, cd4=700, treg_pct="8", tcon_pct="55"),
        user=cast.cora,
    )
    w0 = TregPanel.objects.get(scheduled_visit__code="W0")
    w4 = TregPanel.objects.get(scheduled_visit__code="W4")
    assert (w0.treg_per_ul, w0.tcon_per_ul) == (Decimal("40.0"), Decimal("480.0"))
    assert w0.treg_tcon_ratio == Decimal("0.0833")
    assert w0.treg_pct_change is None
    assert w4.treg_per_ul == Decimal("56.0")
    assert w4.treg_pct_change == Decimal("3.00")
    assert w4.treg_per_ul_change == Decimal("16.0")
    assert w4.treg_per_ul_change_pct == Decimal("40.0")
    html = client_for(cast.cora).get(form_url(p, "W4", "TREG")).content.decode()
    assert "56.0" in html and "3.00" in html


def test_treg_from_cd4_percentage_and_a_sample_date(cast):
    p = participant()
    answers = {
        "lymphocytes_per_ul": "2000",
        "cd4_pct_of_lymphocytes": "40",
        "treg_pct_of_cd4": "6",
        "tcon_pct_of_cd4": "70",
        "sample_date": p.baseline_date,
    }
    panel = capture(p, "W0", "TREG", answers, user=cast.cora).record
    assert panel.derived_cd4_per_ul == Decimal("800.0")
    assert panel.treg_per_ul == Decimal("48.0")
    assert panel.cd4_per_ul is None


def test_correcting_the_baseline_panel_recomputes_the_change_of_the_others(cast):
    p = participant()
    capture(p, "W4", "TREG", treg(treg_pct="8"), user=cast.cora)
    w4 = TregPanel.objects.get(scheduled_visit__code="W4")
    assert w4.treg_pct_change is None  # no baseline yet
    capture(p, "W0", "TREG", treg(treg_pct="5"), user=cast.cora)
    w4.refresh_from_db()
    assert w4.treg_pct_change == Decimal("3.00")
    base = TregPanel.objects.get(scheduled_visit__code="W0")
    capture(
        p,
        "W0",
        "TREG",
        treg(treg_pct="4"),
        user=cast.ivy,
        expected_version=base.row_version,
        reason="Transcription error",
    )
    w4.refresh_from_db()
    assert w4.treg_pct_change == Decimal("4.00")
    assert w4.row_version == 1  # derived data only: no conflict for someone editing W4


def test_steroid_dose_prednisone_equivalent_per_kg_and_sparing_flag(cast, client_for):
    p = participant()
    capture(
        p,
        "W0",
        "STEROID",
        {"drug": "prednisone", "mg_per_day": "20", "weight_kg": "64"},
        user=cast.cora,
    )
    data = {
        "visit_date": visit(p, "W4").target_date.isoformat(),
        "drug": "methylprednisolone",
        "mg_per_day": "12",
        "weight_kg": "60",
    }
    assert client_for(cast.cora).post(form_url(p, "W4", "STEROID"), data).status_code == 302
    w4 = SteroidDose.objects.get(scheduled_visit__code="W4")
    assert w4.prednisone_eq_mg == Decimal("15.00")
    assert w4.mg_per_kg_per_day == Decimal("0.250")
    assert w4.pct_change_from_baseline == Decimal("-25.0")
    assert w4.steroid_sparing is True
    html = client_for(cast.cora).get(form_url(p, "W4", "STEROID")).content.decode()
    assert 'id="sparing"' in html
    w0 = SteroidDose.objects.get(scheduled_visit__code="W0")
    assert (w0.pct_change_from_baseline, w0.steroid_sparing) == (None, False)


def test_a_smaller_reduction_is_not_flagged(cast):
    p = participant()
    capture(p, "W0", "STEROID", {"drug": "prednisone", "mg_per_day": "20"}, user=cast.cora)
    dose = capture(
        p, "W4", "STEROID", {"drug": "prednisolone", "mg_per_day": "15.5"}, user=cast.cora
    ).record
    assert dose.pct_change_from_baseline == Decimal("-22.5")
    assert dose.steroid_sparing is False
    assert dose.mg_per_kg_per_day is None


def test_steroid_bad_input_shows_next_to_the_fields_and_keeps_it(cast, client_for):
    p = participant()
    data = {
        "visit_date": p.baseline_date.isoformat(),
        "drug": "",
        "mg_per_day": "-5",
        "weight_kg": "0",
    }
    html = client_for(cast.cora).post(form_url(p, "W0", "STEROID"), data).content.decode()
    assert "Choose a drug." in field_error(html, "drug")
    assert "cannot be negative" in field_error(html, "mg_per_day")
    assert "more than 0 kg" in field_error(html, "weight_kg")
    assert typed(html, "mg_per_day") == "-5"
    assert not SteroidDose.objects.exists()


def test_the_last_known_weight_is_offered_on_a_new_steroid_form(cast, client_for):
    p = participant()
    capture(
        p,
        "W0",
        "STEROID",
        {"drug": "prednisone", "mg_per_day": "20", "weight_kg": "64.5"},
        user=cast.cora,
    )
    html = client_for(cast.cora).get(form_url(p, "W4", "STEROID")).content.decode()
    assert typed(html, "weight_kg") == "64.5"


def test_editing_a_saved_form_needs_a_reason_which_goes_into_the_audit_trail(cast, client_for):
    p = participant()
    saved = capture(p, "W0", "RPDAI", rpdai(AURIC=True), user=cast.cora).record
    client = client_for(cast.cora)
    data = {
        "visit_date": p.baseline_date.isoformat(),
        "row_version": "1",
        **rpdai_post(rpdai(AURIC=True, NASAL=True)),
    }
    html = client.post(form_url(p, "W0", "RPDAI"), data).content.decode()
    assert "This field is required." in field_error(html, "reason_for_change")
    saved.refresh_from_db()
    assert saved.total == 9

    data["reason_for_change"] = "Nasal chondritis noted in the source document"
    assert client.post(form_url(p, "W0", "RPDAI"), data).status_code == 302
    saved.refresh_from_db()
    assert (saved.total, saved.row_version) == (18, 2)
    last = history_for(saved)[-1]
    assert last.reason == "Nasal chondritis noted in the source document"
    assert last.user == "cora"


def test_moving_a_recorded_visit_date_needs_a_reason(cast):
    from django.core.exceptions import ValidationError

    p = participant()
    w4 = visit(p, "W4")
    capture(p, "W4", "RPDAI", rpdai(), user=cast.cora, visit_date=w4.target_date)
    with pytest.raises(ValidationError) as error:
        capture(p, "W4", "TREG", treg(), user=cast.cora, visit_date=w4.window_start)
    assert "visit_date" in error.value.message_dict
    capture(
        p, "W4", "TREG", treg(), user=cast.cora, visit_date=w4.window_start, reason="Date misread"
    )
    assert visit(p, "W4").actual_date == w4.window_start


def test_a_form_not_in_the_visit_is_not_found(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    assert client.get(form_url(p, "W0", "HAMD17")).status_code == 404
    assert client.get(form_url(p, "W0", "NOPE")).status_code == 404
    assert client.get(form_url(p, "W99", "RPDAI")).status_code == 404


def test_a_monitor_reads_but_cannot_save(cast, client_for):
    p = participant()
    capture(p, "W0", "RPDAI", rpdai(AURIC=True), user=cast.cora)
    client = client_for(cast.molly)
    page = client.get(form_url(p, "W0", "RPDAI"))
    assert page.status_code == 200
    assert 'id="read-only"' in page.content.decode()
    data = {
        "visit_date": p.baseline_date.isoformat(),
        "row_version": "1",
        "reason_for_change": "x",
        **rpdai_post(rpdai()),
    }
    assert client.post(form_url(p, "W0", "RPDAI"), data).status_code == 403
    assert InstrumentResponse.objects.get().total == 9


def test_users_outside_the_site_or_study_see_nothing(cast, client_for):
    p = participant()
    for user in (cast.otto, cast.charlie):
        client = client_for(user)
        assert client.get(form_url(p, "W0", "RPDAI")).status_code == 404
        assert client.get(reverse("assessments:visit", args=[p.pk, "W0"])).status_code == 404
        data = {"visit_date": p.baseline_date.isoformat(), **rpdai_post(rpdai())}
        assert client.post(form_url(p, "W0", "RPDAI"), data).status_code == 404
    assert not InstrumentResponse.objects.exists()


def test_the_visit_page_lists_the_protocol_forms_with_their_status(cast, client_for):
    p = participant()
    capture(p, "W4", "RPDAI", rpdai(), user=cast.cora)
    response = client_for(cast.cora).get(reverse("assessments:visit", args=[p.pk, "W4"]))
    cells = {cell.code: cell for cell in response.context["cells"]}
    assert list(cells) == ["RPDAI", "TREG", "STEROID", "VITALS", "AE"]
    assert cells["RPDAI"].status == "entered"
    assert cells["TREG"].status == "missing"
    assert cells["AE"].status == "elsewhere"
    assert all(cell.open_queries == 0 for cell in cells.values())
    html = response.content.decode()
    assert "see adverse events" in html
    baseline = client_for(cast.cora).get(reverse("assessments:visit", args=[p.pk, "W0"]))
    assert "see eligibility" in baseline.content.decode()


def test_every_phq9_self_harm_alert_is_stored_and_kept_when_corrected(db):
    version = phq9_version()
    p = participant(version=version)
    user = UserFactory(username="nina")
    MembershipFactory(user=user, study=version.study, site=p.site, role=Role.INVESTIGATOR)
    response = capture(p, "W0", "PHQ9", PHQ_ZERO | {"P9": 1}, user=user).record
    assert response.alerts == ["self_harm"]
    alert = InstrumentAlert.objects.get()
    assert (alert.code, alert.participant, alert.cleared_at) == ("self_harm", p, None)

    capture(
        p, "W0", "PHQ9", PHQ_ZERO, user=user, expected_version=1, reason="Entered on the wrong line"
    )
    response.refresh_from_db()
    assert response.alerts == []
    alert.refresh_from_db()
    assert alert.cleared_at is not None  # closed, never deleted
    capture(
        p, "W0", "PHQ9", PHQ_ZERO | {"P9": 2}, user=user, expected_version=2, reason="Re-checked"
    )
    assert InstrumentAlert.objects.count() == 2
    assert InstrumentAlert.objects.filter(cleared_at__isnull=True).count() == 1
