"""The server's rules for a form defined as data (assessments.form_rules): blanks and missing
codes read as null, hiding cascades, calculations are recomputed, rules of each severity."""

from datetime import date
from decimal import Decimal

import pytest

from assessments.form_rules import run
from trials.forms.expressions import ItemType
from trials.forms.spec import CheckSpec, FormSpec, GroupSpec, ItemSpec, Text


def item(code, kind=ItemType.DECIMAL, **fields) -> ItemSpec:
    return ItemSpec(code=code, label=Text(code.title()), type=kind, **fields)


SYMPT = FormSpec(
    code="SYMPT",
    name=Text("Symptoms"),
    groups=(
        GroupSpec(
            "SYMPT",
            (
                item("FEVER", ItemType.YESNO, required=True),
                item(
                    "TEMP",
                    precision=1,
                    required=True,
                    show_if="FEVER == 'Y'",
                    range=(Decimal(34), Decimal(43)),
                ),
                item("HIGH", ItemType.YESNO, show_if="TEMP > 39"),
                item("DOUBLE", precision=0, calc="TEMP * 2"),
                item(
                    "SITES",
                    ItemType.MULTICHOICE,
                    codes=(("EAR", Text("Ear")), ("NOSE", Text("Nose"))),
                ),
                item("ONSET", ItemType.DATE),
            ),
        ),
    ),
    checks=(
        CheckSpec("S1", "TEMP < 42", Text("Very high: check it"), "warning"),
        CheckSpec("S2", "days(ONSET, today()) >= 0", Text("Onset in the future")),
        CheckSpec("S3", "not has(SITES, 'NOSE')", Text("Nose noted"), "query"),
    ),
)


def test_a_hidden_item_is_not_required_and_hiding_cascades():
    result = run(SYMPT, {"FEVER": "N", "TEMP": "40.0", "HIGH": "Y"})
    assert result.errors == {}
    assert result.values == {"FEVER": "N"}
    assert result.calculated == {}  # its operand is hidden: null


def test_a_shown_required_item_must_be_answered_and_feeds_the_calculation():
    assert run(SYMPT, {"FEVER": "Y"}).errors == {"TEMP": ["This item is required."]}
    result = run(SYMPT, {"FEVER": "Y", "TEMP": "39.5", "HIGH": "Y"})
    assert result.values == {"FEVER": "Y", "TEMP": "39.5", "HIGH": "Y"}
    assert result.calculated == {"DOUBLE": "79"}


def test_a_saved_value_a_change_hides_is_listed_with_why():
    previous = {"values": {"FEVER": "Y", "TEMP": "39.5", "HIGH": "Y"}, "missing": {}}
    result = run(SYMPT, {"FEVER": "N", "TEMP": "39.5", "HIGH": "Y"}, previous=previous)
    assert result.cleared == [("TEMP", "FEVER Y→N"), ("HIGH", "TEMP 39.5→∅")]


def test_a_warning_rule_waits_for_its_confirmation_by_id_or_item():
    answers = {"FEVER": "Y", "TEMP": "42.5"}
    assert run(SYMPT, answers).warnings == {"TEMP": ["Very high: check it"]}
    for confirm in (["S1"], ["TEMP"]):
        confirmed = run(SYMPT, answers, confirm=confirm)
        assert confirmed.warnings == {}
        assert confirmed.confirmed == [{"check": "S1", "item": "TEMP", "value": "TEMP=42.5"}]
    again = run(SYMPT, answers, previously_confirmed=confirmed.confirmed)
    assert again.warnings == {} and again.confirmed == confirmed.confirmed


def test_a_rule_reading_a_blank_is_not_evaluated_and_today_is_the_callers_day():
    assert run(SYMPT, {"FEVER": "N"}, today=date(2026, 1, 1)).errors == {}
    future = run(SYMPT, {"FEVER": "N", "ONSET": "2026-02-01"}, today=date(2026, 1, 1))
    assert future.errors == {"ONSET": ["Onset in the future"]}


def test_a_query_rule_accepts_and_a_multichoice_is_a_set_of_its_codes():
    result = run(SYMPT, {"FEVER": "N", "SITES": ["NOSE", "EAR"]})
    assert result.errors == {} and result.warnings == {}
    assert result.values["SITES"] == ["EAR", "NOSE"]  # in the form's order
    assert run(SYMPT, {"FEVER": "N", "SITES": ["MOUTH"]}).errors == {
        "SITES": ["“MOUTH” is not one of the choices."]
    }


def test_unknown_items_and_malformed_values_are_refused_by_key():
    result = run(SYMPT, {"FEVER": "maybe", "COLOUR": "red", "ONSET": "01/02/2026"})
    assert result.errors == {
        "COLOUR": ["“COLOUR” is not an item of this form."],
        "FEVER": ["Answer yes or no."],
        "ONSET": ["Enter a valid date (YYYY-MM-DD)."],
    }


def shipped_conmed() -> FormSpec:
    from tests.factories import PROTOCOL_DIR
    from trials.protocol_file import parse_protocol

    spec = parse_protocol((PROTOCOL_DIR / "ld-il2-rp.yaml").read_text(encoding="utf-8"))
    return next(form for form in spec.forms if form.code == "CONMED")


def medication(**fields) -> dict:
    row = {"CMTRT": "x", "CMDOSU": "mg", "CMFREQ": "QD", "CMSTDTC": "2020-01-01", "CMONGO": "Y"}
    return {**row, **fields}


def test_glucocorticoids_taken_now_add_up_to_a_prednisone_equivalent():
    rows = [
        medication(CMTRT="Prednisone", CMDOSE="10", CMFREQ="BID", CMGC="prednisone"),
        medication(CMTRT="Medrol", CMDOSE="4", CMGC="methylprednisolone"),
        medication(
            CMTRT="Hydrocortisone",
            CMDOSE="20",
            CMGC="hydrocortisone",
            CMONGO="N",
            CMENDTC="2020-02-01",
        ),
        medication(CMTRT="Aspirin", CMDOSE="100"),
    ]
    result = run(shipped_conmed(), {"CM": rows})
    assert result.errors == {}
    # 10 mg twice a day + 4 mg x 1.25. The stopped one keeps its daily equivalent (the
    # steroid dose's total reads it on the days it was taken) but is not taken now; aspirin
    # is no glucocorticoid.
    assert result.calculated == {
        "PREDTOT": "25.00",
        "CM.1.CMPREDEQ": "20.00",
        "CM.1.CMPREDNOW": "20.00",
        "CM.2.CMPREDEQ": "5.00",
        "CM.2.CMPREDNOW": "5.00",
        "CM.3.CMPREDEQ": "5.00",
        "CM.3.CMPREDNOW": "0.00",
    }


def test_only_stopped_glucocorticoids_are_none_taken_now():
    stopped = medication(CMDOSE="20", CMGC="hydrocortisone", CMONGO="N", CMENDTC="2020-02-01")
    result = run(shipped_conmed(), {"CM": [stopped, medication(CMTRT="Aspirin", CMDOSE="75")]})
    assert result.calculated == {
        "PREDTOT": "0.00",
        "CM.1.CMPREDEQ": "5.00",
        "CM.1.CMPREDNOW": "0.00",
    }


@pytest.mark.parametrize(
    ("drug", "mg", "equivalent"),
    [
        ("deflazacort", "6", "4.98"),  # 6 x 0.83
        ("betamethasone", "0.6", "5.00"),  # 0.6 x 8.33 = 4.998
        ("cortisone", "25", "5.00"),  # 25 x 0.2
        ("cortisone", "12.5", "2.50"),
    ],
)
def test_the_conmed_form_converts_the_other_glucocorticoids(drug, mg, equivalent):
    result = run(shipped_conmed(), {"CM": [medication(CMDOSE=mg, CMGC=drug)]})
    assert result.calculated["CM.1.CMPREDEQ"] == equivalent
    assert result.calculated["PREDTOT"] == equivalent


def test_the_conmed_factors_are_the_steroid_forms_factors():
    from assessments.derivations import PREDNISONE_EQUIVALENT

    form = shipped_conmed()
    assert {code for code, _label in form.item("CMGC").codes} == set(PREDNISONE_EQUIVALENT)
    for drug, factor in PREDNISONE_EQUIVALENT.items():
        result = run(form, {"CM": [medication(CMDOSE="1", CMGC=drug)]})
        assert result.calculated["CM.1.CMPREDEQ"] == format(factor.quantize(Decimal("0.01")), "f")
    weekly = run(form, {"CM": [medication(CMDOSE="35", CMFREQ="QW", CMGC="prednisone")]})
    assert weekly.calculated["PREDTOT"] == "5.00"
