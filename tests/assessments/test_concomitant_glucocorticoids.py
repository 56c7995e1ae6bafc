"""The day's prednisone-equivalent total: the steroid dose (STEROID) plus the glucocorticoids
the concomitant-medication form (CONMED) says were taken that day, which the steroid-taper
endpoint (% change from baseline, >= 25 % reduction) reads, so a taper with two drugs counts.

First the rule on its own (assessments.glucocorticoids), then a participant of the RP
protocol tapering prednisone while a hydrocortisone stops and a dexamethasone starts, through
the service, the API, the page and the participant panel."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from assessments import glucocorticoids
from assessments.models import FormRecord, SteroidDose
from assessments.templatetags.capture_tags import panel_context
from audit.history import history_for
from patients.models import ScheduledVisit
from tests.assessments.helpers_capture import capture, participant, rp_cast, visit
from tests.factories import PROTOCOL_DIR, MembershipFactory, UserFactory
from trials.models import Role
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

D = Decimal
RECOMPUTED = "Prednisone-equivalent total recomputed: concomitant medication saved"

# -- the rule -------------------------------------------------------------------------------

DAY = date(2024, 3, 1)


def conmed(*rows, visit_code="W0", on=date(2024, 1, 1), missing=None) -> FormRecord:
    """An unsaved CONMED record at a visit dated `on`; rows as (values, CMPREDEQ)."""
    values, calculated = {}, {}
    for n, (row, equivalent) in enumerate(rows, start=1):
        values.update({f"CM.{n}.{code}": value for code, value in row.items()})
        if equivalent is not None:
            calculated[f"CM.{n}.CMPREDEQ"] = equivalent
    return FormRecord(
        form_code="CONMED",
        values=values,
        missing=missing or {},
        calculated=calculated,
        scheduled_visit=ScheduledVisit(code=visit_code, target_date=on, actual_date=on),
    )


def row(name="Hydrocortisone", drug="hydrocortisone", start="2023-12-01", stop=None, **more):
    values = {"CMTRT": name, "CMSTDTC": start, "CMONGO": "N" if stop else "Y", "CMGC": drug}
    if stop:
        values["CMENDTC"] = stop
    return {k: v for k, v in {**values, **more}.items() if v is not None}


def total(records, day=DAY, drug="prednisone") -> Decimal:
    return glucocorticoids.prednisone_eq_on(
        glucocorticoids.rows_of(records), day, steroid_drug=drug
    )


def test_an_ongoing_glucocorticoid_counts_from_its_start():
    records = [conmed((row(start="2024-03-01"), "5.00"))]
    assert total(records, date(2024, 2, 29)) == D("0.00")
    assert total(records, date(2024, 3, 1)) == D("5.00")  # its first day
    assert total(records, date(2030, 1, 1)) == D("5.00")


def test_a_stopped_one_counts_up_to_its_stop_date_only():
    records = [conmed((row(stop="2024-03-01"), "5.00"))]
    assert total(records, date(2024, 3, 1)) == D("5.00")  # its last day
    assert total(records, date(2024, 3, 2)) == D("0.00")


def test_several_glucocorticoids_add_up_and_other_drugs_do_not():
    records = [
        conmed(
            (row(), "5.00"),
            (row("Dexamethasone", "dexamethasone"), "10.01"),
            (row("Aspirin", None), None),
            (row("Betamethasone", "betamethasone", start="2024-03-02"), "5.00"),  # not yet
        )
    ]
    assert total(records) == D("15.01")


def test_the_steroid_dose_s_own_drug_is_not_counted_twice():
    records = [conmed((row("Prednisone", "prednisone"), "20.00"), (row(), "5.00"))]
    assert total(records, drug="prednisone") == D("5.00")
    assert total(records, drug="methylprednisolone") == D("25.00")


def test_a_row_without_an_equivalent_is_not_counted():
    # A dose in g, an unknown dose or "as needed": the form gives no prednisone equivalent.
    records = [conmed((row(), None), (row("Cortisone", "cortisone"), "5.00"))]
    assert total(records) == D("5.00")


def test_an_unknown_start_counts_as_before_the_day():
    unknown = {"CM.1.CMSTDTC": {"code": "UNK", "reason": "Long-standing"}}
    records = [conmed((row(start=None), "5.00"), missing=unknown)]
    assert total(records, date(1990, 1, 1)) == D("5.00")


def test_an_unknown_stop_counts_until_the_visit_that_reports_it_stopped():
    # Stopped, date unknown, as the CONMED of 1 January 2024 says: taken before that visit
    # (when, the record does not say), not on or after it.
    unknown = {"CM.1.CMENDTC": {"code": "UNK", "reason": "Patient does not remember"}}
    records = [
        conmed((row(start="2023-06-01", CMONGO="N"), "5.00"), on=date(2024, 1, 1), missing=unknown)
    ]
    assert total(records, date(2023, 12, 31)) == D("5.00")
    assert total(records, date(2024, 1, 1)) == D("0.00")
    assert total(records, DAY) == D("0.00")


def test_a_row_listed_at_several_visits_counts_once_from_the_latest_record():
    earlier = conmed((row(), "5.00"), (row("Deflazacort", "deflazacort"), "4.98"), on=DAY)
    later = conmed(
        (row(stop="2024-02-15"), "5.00"),  # the same row (drug and start), since stopped
        visit_code="W8",
        on=date(2024, 4, 1),
    )
    # Whatever order they come in: the later visit's record is the latest word on a row.
    for records in ([earlier, later], [later, earlier]):
        assert total(records, date(2024, 2, 15)) == D("9.98")
        assert total(records, DAY) == D("4.98")  # deflazacort, only in the earlier one
    rows = glucocorticoids.rows_of([earlier, later])
    assert sorted((r.visit, r.row, r.drug) for r in rows) == [
        ("W0", 2, "deflazacort"),
        ("W8", 1, "hydrocortisone"),
    ]


def test_the_row_key_ignores_case_and_spacing_of_the_drug_name():
    earlier = conmed((row("hydrocortisone "), "5.00"), on=date(2024, 1, 1))
    later = conmed((row("Hydrocortisone", CMDOSE="40"), "10.00"), on=date(2024, 2, 1))
    assert total([earlier, later]) == D("10.00")


# -- through the capture ------------------------------------------------------------------


@pytest.fixture
def cast(db):
    return rp_cast()


def day(p, code, offset=0) -> date:
    return visit(p, code).target_date + timedelta(days=offset)


def two_drug_rows(p, dexamethasone_mg="1.5") -> list[dict]:
    """Hydrocortisone 20 mg a day from before baseline, stopped the day before W8, and
    dexamethasone from W4 on."""
    return [
        {
            "CMTRT": "Hydrocortisone",
            "CMDOSE": "20",
            "CMDOSU": "mg",
            "CMFREQ": "QD",
            "CMSTDTC": day(p, "W0", -60).isoformat(),
            "CMONGO": "N",
            "CMENDTC": day(p, "W8", -1).isoformat(),
            "CMGC": "hydrocortisone",
        },
        {
            "CMTRT": "Dexamethasone",
            "CMDOSE": dexamethasone_mg,
            "CMDOSU": "mg",
            "CMFREQ": "QD",
            "CMSTDTC": day(p, "W4").isoformat(),
            "CMONGO": "Y",
            "CMGC": "dexamethasone",
        },
        {
            "CMTRT": "Prednisone",  # the STEROID form's drug: counted there, not here
            "CMDOSE": "20",
            "CMDOSU": "mg",
            "CMFREQ": "QD",
            "CMSTDTC": day(p, "W0", -90).isoformat(),
            "CMONGO": "Y",
            "CMGC": "prednisone",
        },
    ]


def prednisone_taper(p, user):
    for code, mg in (("W0", 20), ("W4", 10), ("W8", 5)):
        capture(p, code, "STEROID", {"drug": "prednisone", "mg_per_day": mg}, user=user)


def doses(p) -> dict[str, tuple]:
    return {
        d.scheduled_visit.code: (
            d.prednisone_eq_mg,
            d.other_glucocorticoids_eq_mg,
            d.total_prednisone_eq_mg,
            d.baseline_prednisone_eq_mg,
            d.pct_change_from_baseline,
            d.steroid_sparing,
        )
        for d in SteroidDose.objects.filter(participant=p).select_related("scheduled_visit")
    }


#: prednisone, other glucocorticoids, total, baseline total, % change, sparing. W4: prednisone
#: halved but dexamethasone 1.5 mg (10.01 mg prednisone) added, so no sparing; W8:
#: hydrocortisone stopped, 25 -> 15.01 is a 40 % reduction.
TWO_DRUGS = {
    "W0": (D("20.00"), D("5.00"), D("25.00"), None, None, False),
    "W4": (D("10.00"), D("15.01"), D("25.01"), D("25.00"), D("0.0"), False),
    "W8": (D("5.00"), D("10.01"), D("15.01"), D("25.00"), D("-40.0"), True),
}


def test_a_taper_with_two_drugs_is_judged_on_the_day_s_total(cast):
    p = participant()
    capture(p, "W0", "CONMED", {"CM": two_drug_rows(p)}, user=cast.cora)
    prednisone_taper(p, cast.cora)  # saving STEROID reads CONMED at its date
    assert doses(p) == TWO_DRUGS


def test_saving_conmed_recomputes_the_steroid_doses_already_entered(cast):
    p = participant()
    prednisone_taper(p, cast.cora)
    alone = doses(p)
    assert alone["W4"][2:] == (D("10.00"), D("20.00"), D("-50.0"), True)  # prednisone alone
    capture(p, "W0", "CONMED", {"CM": two_drug_rows(p)}, user=cast.cora)
    assert doses(p) == TWO_DRUGS
    w4 = SteroidDose.objects.get(participant=p, scheduled_visit__code="W4")
    assert w4.row_version == 1  # derived data: nobody editing W4 is in conflict
    last = history_for(w4)[-1]
    assert last.reason == RECOMPUTED and last.user == "cora"
    assert {c.field for c in last.changes} >= {
        "other_glucocorticoids_eq_mg",
        "total_prednisone_eq_mg",
        "pct_change_from_baseline",
        "steroid_sparing",
    }
    assert all(c.derived for c in last.changes)


def test_correcting_conmed_recomputes_earlier_doses_without_a_new_version(cast):
    p = participant()
    capture(p, "W0", "CONMED", {"CM": two_drug_rows(p)}, user=cast.cora)
    prednisone_taper(p, cast.cora)
    record = FormRecord.objects.get(participant=p, form_code="CONMED")
    capture(
        p,
        "W0",
        "CONMED",
        {"CM": two_drug_rows(p, dexamethasone_mg="0.75")},  # 5.0025 -> 5.00 mg prednisone
        user=cast.ivy,
        expected_version=record.row_version,
        reason="Dose misread",
    )
    w4, w8 = (
        SteroidDose.objects.get(participant=p, scheduled_visit__code=code) for code in ("W4", "W8")
    )
    assert (w4.total_prednisone_eq_mg, w4.pct_change_from_baseline) == (D("20.00"), D("-20.0"))
    assert (w8.total_prednisone_eq_mg, w8.steroid_sparing) == (D("10.00"), True)
    assert (w4.row_version, w8.row_version) == (1, 1)
    last = history_for(w4)[-1]
    assert (last.reason, last.user) == (RECOMPUTED, "ivy")
    totals = {c.field: (D(str(c.old)), D(str(c.new))) for c in last.changes}
    assert totals["total_prednisone_eq_mg"] == (D("25.01"), D("20.00"))
    # W0 did not change (dexamethasone started at W4): no audit noise there.
    w0 = SteroidDose.objects.get(participant=p, scheduled_visit__code="W0")
    assert history_for(w0)[-1].reason != RECOMPUTED


def test_a_steroid_dose_s_weight_gives_the_total_per_kg(cast):
    p = participant()
    capture(p, "W0", "CONMED", {"CM": two_drug_rows(p)}, user=cast.cora)
    dose = capture(
        p,
        "W0",
        "STEROID",
        {"drug": "prednisone", "mg_per_day": 20, "weight_kg": 50},
        user=cast.cora,
    ).record
    assert dose.mg_per_kg_per_day == D("0.500")  # 25 mg / 50 kg, not 20 / 50


def test_the_steroid_drug_s_own_conmed_row_is_counted_once(cast):
    p = participant()
    rows = two_drug_rows(p)
    capture(p, "W0", "CONMED", {"CM": rows[2:]}, user=cast.cora)  # prednisone only
    dose = capture(p, "W0", "STEROID", {"drug": "prednisone", "mg_per_day": 15}, user=cast.cora)
    assert (dose.record.other_glucocorticoids_eq_mg, dose.record.total_prednisone_eq_mg) == (
        D("0.00"),
        D("15.00"),
    )
    # Recorded as methylprednisolone, the CONMED prednisone is another glucocorticoid.
    other = capture(
        p, "W4", "STEROID", {"drug": "methylprednisolone", "mg_per_day": 8}, user=cast.cora
    ).record
    assert (other.prednisone_eq_mg, other.total_prednisone_eq_mg) == (D("10.00"), D("30.00"))


def several_conmed_version():
    """The RP protocol with CONMED at W0 and W8 (a study of its own)."""
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text(encoding="utf-8")
    text = text.replace("LDIL2-RP", "LDIL2-RPCM").replace(
        "forms: [RPDAI, TREG, STEROID, VITALS, AE]}\n  - {code: W12",
        "forms: [RPDAI, TREG, STEROID, VITALS, CONMED, AE]}\n  - {code: W12",
    )
    version, _created = load_protocol(parse_protocol(text), activate=True)
    return version


def test_a_row_listed_again_at_a_later_visit_counts_once_from_there(cast):
    version = several_conmed_version()
    site = version.study.sites.get()
    MembershipFactory(user=cast.cora, study=version.study, site=site, role=Role.COORDINATOR)
    p = participant(version=version)
    hydrocortisone, dexamethasone, _prednisone = two_drug_rows(p)
    ongoing = {**hydrocortisone, "CMONGO": "Y"}
    del ongoing["CMENDTC"]
    capture(p, "W0", "CONMED", {"CM": [ongoing]}, user=cast.cora)
    prednisone_taper(p, cast.cora)
    assert doses(p)["W8"][1] == D("5.00")  # hydrocortisone still taken, as W0 says
    # W8's list: hydrocortisone stopped the day before, dexamethasone since W4.
    capture(p, "W8", "CONMED", {"CM": [hydrocortisone, dexamethasone]}, user=cast.cora)
    assert doses(p) == TWO_DRUGS


# -- the API, the page and the participant panel --------------------------------------------


def test_the_api_answers_the_total_and_its_parts(cast, client_for):
    p = participant()
    client = client_for(cast.cora)
    url = reverse("api-visit-form", args=[p.pk, "W0", "CONMED"])
    body = {"visit_date": day(p, "W0").isoformat(), "answers": {"CM": two_drug_rows(p)}}
    assert client.post(url, body, content_type="application/json").status_code == 201
    answer = client.post(
        reverse("api-visit-form", args=[p.pk, "W4", "STEROID"]),
        {
            "visit_date": day(p, "W4").isoformat(),
            "answers": {"drug": "prednisone", "mg_per_day": "10"},
        },
        content_type="application/json",
    )
    assert answer.status_code == 201
    assert answer.json()["derived"] == {
        "prednisone_eq_mg": "10.00",
        "other_glucocorticoids_eq_mg": "15.01",
        "total_prednisone_eq_mg": "25.01",
        "mg_per_kg_per_day": None,
        "baseline_prednisone_eq_mg": None,  # no STEROID at baseline yet
        "pct_change_from_baseline": None,
        "steroid_sparing": False,
    }


def test_the_page_shows_the_total_and_its_parts_in_the_reader_s_language(cast, client_for):
    p = participant()
    capture(p, "W0", "CONMED", {"CM": two_drug_rows(p)}, user=cast.cora)
    prednisone_taper(p, cast.cora)
    url = reverse("assessments:visit_form", args=[p.pk, "W8", "STEROID"])
    client = client_for(cast.cora)
    html = client.get(url).content.decode()
    derived = html.split('id="derived"')[1].split("</table>")[0]
    parts = " ".join(derived.split('id="prednisone-total"')[1].split("</td>")[0].split())
    assert parts.startswith(">")
    assert (
        "5.00 mg prednisone eq. from Prednisone + 10.01 mg prednisone eq. from concomitant "
        "glucocorticoids = 15.01 mg/day" in parts
    )
    counted = derived.split('id="counted-glucocorticoids"')[1].split("</td>")[0]
    assert "Dexamethasone" in counted and "10.01" in counted
    assert "Hydrocortisone" not in counted  # stopped the day before W8
    assert 'id="sparing"' in derived
    client.post(reverse("set-language"), {"language": "zh-hans", "next": url})
    chinese = client.get(url).content.decode()
    assert (
        "合并使用的糖皮质激素折合泼尼松 10.01 mg"
        in chinese.split('id="derived"')[1].split("</table>")[0]
    )


def test_the_participant_panel_plots_the_total_and_the_concomitant_part(cast):
    p = participant()
    capture(p, "W0", "CONMED", {"CM": two_drug_rows(p)}, user=cast.cora)
    prednisone_taper(p, cast.cora)
    steroid = panel_context(p, cast.cora)["plots"]["steroid"]
    assert [(point["visit"], point["y"]) for point in steroid["points"]] == [
        ("W0", 25.0),
        ("W4", 25.01),
        ("W8", 15.01),
    ]
    assert [point["y"] for point in steroid["others"]] == [5.0, 15.01, 10.01]
    assert steroid["others_label"]


# -- who sees it ------------------------------------------------------------------------------


def test_outsiders_see_no_total(cast, client_for):
    p = participant()
    capture(p, "W0", "CONMED", {"CM": two_drug_rows(p)}, user=cast.cora)
    prednisone_taper(p, cast.cora)
    for user in (cast.otto, cast.charlie):
        client = client_for(user)
        assert (
            client.get(reverse("assessments:visit_form", args=[p.pk, "W8", "STEROID"])).status_code
            == 404
        )
        refused = client.post(
            reverse("api-visit-form", args=[p.pk, "W0", "CONMED"]),
            {"visit_date": day(p, "W0").isoformat(), "answers": {"CM": two_drug_rows(p)}},
            content_type="application/json",
        )
        assert refused.status_code == 404 and "15.01" not in refused.content.decode()


def blinded_steroid_version():
    """The RP protocol, double blind, with the steroid dose a blinded result."""
    text = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text(encoding="utf-8")
    text = text.replace("LDIL2-RP", "LDIL2-RPBL").replace("blinding: open", "blinding: double")
    text = text.replace(
        "effective: 2019-11-01}", "effective: 2019-11-01, blinded_results: [STEROID]}"
    )
    version, _created = load_protocol(parse_protocol(text), activate=True)
    return version


def test_a_blinded_user_entering_conmed_learns_nothing_of_the_blinded_steroid_total(db, client_for):
    version = blinded_steroid_version()
    study, site = version.study, version.study.sites.get()
    lab = UserFactory(username="ulla", password=None)
    MembershipFactory(user=lab, study=study, site=site, role=Role.COORDINATOR, is_blinded=False)
    blind = UserFactory(username="carla", password=None)
    MembershipFactory(user=blind, study=study, site=site, role=Role.COORDINATOR, is_blinded=True)
    p = participant(version=version)
    prednisone_taper(p, lab)
    answer = client_for(blind).post(
        reverse("api-visit-form", args=[p.pk, "W0", "CONMED"]),
        {"visit_date": day(p, "W0").isoformat(), "answers": {"CM": two_drug_rows(p)}},
        content_type="application/json",
    )
    assert answer.status_code == 201
    assert not any(value in answer.content.decode() for value in ("25.01", "15.01", "-40.0"))
    assert doses(p) == TWO_DRUGS  # recomputed all the same
    w8 = SteroidDose.objects.get(participant=p, scheduled_visit__code="W8")
    client = client_for(blind)
    assert (
        client.get(reverse("assessments:visit_form", args=[p.pk, "W8", "STEROID"])).status_code
        == 403
    )
    assert (
        client.get(reverse("record-history", args=["assessments.steroiddose", w8.pk])).status_code
        == 404
    )
    page = client.get(reverse("patients:participant", args=[p.pk])).content.decode()
    assert "15.01" not in page and "25.01" not in page
