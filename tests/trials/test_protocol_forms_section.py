"""The protocol file's `forms:` section: forms defined as data are read, written back
unchanged, and a file with any mistake in a form is refused whole, each problem with its line.
"""

from decimal import Decimal

import pytest

from tests.trials.helpers_forms import RP, VITALS, with_forms
from trials.forms.expressions import ItemType
from trials.forms.spec import (
    CheckSpec,
    FormSpec,
    GroupSpec,
    ItemSpec,
    Text,
    form_from_data,
    form_to_data,
)
from trials.protocol_file import ProtocolFileError, dump_protocol, parse_protocol


def refusals(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text)
    return [(p.line, p.path, p.message) for p in refused.value.errors]


def line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def one_form(item_lines: str, checks: str = "") -> str:
    return with_forms(
        "forms:\n  - code: F1\n    items:\n"
        + item_lines
        + (f"    checks:\n{checks}" if checks else "")
    )


def test_a_file_without_forms_still_reads_with_no_forms():
    assert parse_protocol(RP).forms == ()


def test_forms_are_read_as_the_design_writes_them():
    spec = parse_protocol(with_forms(visit_forms="[RPDAI, VITALS, SYMPT, CM]"))
    vitals, sympt, cm = spec.forms
    assert vitals.name.get("zh-hans") == "生命体征"
    assert vitals.name.get("fr") == "Vital signs"  # falls back to English
    (group,) = vitals.groups
    assert (group.code, group.repeating) == ("VITALS", False)
    weight = vitals.item("WEIGHT")
    assert weight == ItemSpec(
        code="WEIGHT",
        label=Text("Weight"),
        type=ItemType.DECIMAL,
        precision=1,
        unit="kg",
        required=True,
        range=(Decimal(20), Decimal(250)),
        soft_range=(Decimal(35), Decimal(150)),
    )
    assert vitals.item("SYSBP").missing == ("ND",)
    assert vitals.checks == (
        CheckSpec("VITALS-R1", "DIABP < SYSBP", Text("Diastolic pressure must be below systolic")),
    )
    assert sympt.item("TEMP").show_if == "FEVER == 'Y'"
    med = cm.groups[1]
    assert (med.code, med.repeating, med.key, med.max_rows) == ("MED", True, ("CMTRT",), 20)
    assert med.items[1].codes == (("PO", Text("Oral")), ("SC", Text("Subcutaneous")))
    assert cm.checks[0].severity == "warning"
    assert spec.visits[1].forms == ("RPDAI", "VITALS", "SYMPT", "CM")


def test_a_file_with_forms_reads_back_unchanged_after_writing_it():
    spec = parse_protocol(with_forms(visit_forms="[RPDAI, VITALS]"))
    text = dump_protocol(spec)
    assert parse_protocol(text) == spec
    assert "forms:" in text


def test_a_form_survives_the_plain_data_it_is_stored_as():
    for form in parse_protocol(with_forms()).forms:
        assert form_from_data(form_to_data(form)) == form


def test_the_content_hash_ignores_how_a_number_is_written_but_not_what_it_says():
    form = parse_protocol(with_forms()).forms[0]
    same = parse_protocol(with_forms(VITALS.replace("range: [20, 250]", "range: [20.0, 250]")))
    other = parse_protocol(with_forms(VITALS.replace("range: [20, 250]", "range: [21, 250]")))
    assert same.forms[0].content_hash == form.content_hash
    assert other.forms[0].content_hash != form.content_hash
    assert len(form.content_hash) == 64


def test_a_visit_may_not_schedule_a_form_nobody_defines():
    text = with_forms(visit_forms="[RPDAI, VITALZ]")
    ((line, path, message),) = refusals(text)
    assert path == "visits[1].forms[1]"
    assert message.startswith("unknown form 'VITALZ'")
    assert line == line_of(text, "forms: [RPDAI, VITALZ]")


def test_a_form_may_not_take_a_built_in_code():
    text = with_forms(
        "forms:\n  - code: PHQ9\n    items:\n      - {code: A, label: A, type: text}\n"
    )
    assert refusals(text) == [
        (line_of(text, "code: PHQ9"), "forms[0].code", "'PHQ9' is a built-in form's code")
    ]


def test_two_forms_may_not_share_a_code():
    form = "  - code: F1\n    items:\n      - {code: A, label: A, type: text}\n"
    text = with_forms("forms:\n" + form + form)
    first = line_of(text, "forms:\n") + 1
    assert refusals(text) == [
        (first + 3, "forms[1].code", f"duplicate form code 'F1' (first on line {first})")
    ]


@pytest.mark.parametrize(
    ("item", "path", "message"),
    [
        (
            "{code: A, label: A, type: text, colour: red}",
            "forms[0].items[0]",
            "unknown key 'colour' (allowed: code, label, type, help, precision, max_length, "
            "unit, codes, required, range, soft_range, show_if, calc, missing)",
        ),
        (
            "{code: A, label: A, type: integer, codes: [[1, One]]}",
            "forms[0].items[0].codes",
            "'codes' applies only to choice and multichoice items",
        ),
        (
            "{code: A, label: A, type: choice}",
            "forms[0].items[0]",
            "a choice item needs 'codes: [[code, label], ...]'",
        ),
        (
            "{code: A, label: A, type: choice, codes: [[1, One], ['1', Uno]]}",
            "forms[0].items[0].codes[1][0]",
            "choice code '1' is used twice (first on line {line})",
        ),
        (
            "{code: A, label: A, type: yesno, unit: kg}",
            "forms[0].items[0].unit",
            "'unit' applies only to integer and decimal items",
        ),
        (
            "{code: A, label: A, type: integer, precision: 1}",
            "forms[0].items[0].precision",
            "'precision' applies only to decimal items",
        ),
        (
            "{code: A, label: A, type: text, range: [1, 2]}",
            "forms[0].items[0].range",
            "'range' applies only to integer and decimal items",
        ),
        (
            "{code: A, label: A, type: integer, range: [5, 2]}",
            "forms[0].items[0].range",
            "min 5 is above max 2",
        ),
        (
            "{code: A, label: A, type: integer, range: [0, 10], soft_range: [2, 12]}",
            "forms[0].items[0].soft_range",
            "soft range [2, 12] must lie within the range [0, 10]",
        ),
        (
            "{code: 2A, label: A, type: text}",
            "forms[0].items[0].code",
            "'2A' is not an item code (a letter, then letters, digits and _; "
            "not a word of the expression language)",
        ),
        (
            "{code: A, label: A, type: integer, missing: [ND, XX]}",
            "forms[0].items[0].missing[1]",
            "unknown missing code 'XX' (known: NA, ND, UNK)",
        ),
        (
            "{code: A, label: A, type: integer, calc: '1 +'}",
            "forms[0].items[0].calc",
            None,
        ),
    ],
)
def test_an_item_breaking_a_rule_refuses_the_file_at_its_line(item, path, message):
    text = one_form(f"      - {item}\n")
    ((line, got_path, got),) = refusals(text)
    assert (line, got_path) == (line_of(text, item), path)
    if message is None:
        assert got.startswith("'1 +' does not parse")
    else:
        assert got == message.format(line=line)


def test_two_items_of_a_form_may_not_share_a_code_even_across_groups():
    text = with_forms(
        "forms:\n  - code: F1\n    items:\n      - {code: A, label: A, type: text}\n"
        "    groups:\n      - code: G\n        items:\n"
        "          - {code: A, label: B, type: text}\n"
    )
    ((line, path, message),) = refusals(text)
    assert path == "forms[0].groups[0].items[0].code"
    assert message.startswith("duplicate item code 'A'")
    assert line == line_of(text, "{code: A, label: B")


@pytest.mark.parametrize(
    ("items", "checks", "needle", "path", "message"),
    [
        (
            "      - {code: A, label: A, type: yesno}\n"
            "      - {code: B, label: B, type: integer, show_if: 'A == 1'}\n",
            "",
            "show_if: 'A == 1'",
            "forms[0].items[1].show_if",
            "Compare the yes/no item A with 'Y' or 'N'",
        ),
        (
            "      - {code: A, label: A, type: choice, codes: [[X, x]]}\n"
            "      - {code: B, label: B, type: integer, show_if: \"A == 'Z'\"}\n",
            "",
            "show_if: \"A == 'Z'\"",
            "forms[0].items[1].show_if",
            "Z",
        ),
        (
            "      - {code: A, label: A, type: integer}\n"
            "      - {code: B, label: B, type: date, calc: 'A + 1'}\n",
            "",
            "calc: 'A + 1'",
            "forms[0].items[1].calc",
            "does not fit a date item",
        ),
        (
            "      - {code: A, label: A, type: date}\n"
            "      - {code: B, label: B, type: integer, calc: 'days(A, today())'}\n",
            "",
            "calc: 'days(A, today())'",
            "forms[0].items[1].calc",
            "today",
        ),
        (
            "      - {code: A, label: A, type: integer, calc: 'B + 1'}\n"
            "      - {code: B, label: B, type: integer, calc: 'A + 1'}\n",
            "",
            "calc: 'B + 1'",
            "forms[0].items[0].calc",
            "depends on itself",
        ),
        (
            "      - {code: A, label: A, type: integer, calc: 'A + 1'}\n",
            "",
            "calc: 'A + 1'",
            "forms[0].items[0].calc",
            "depends on itself",
        ),
        (
            "      - {code: A, label: A, type: integer}\n",
            "      - {rule: 'A < NOPE', message: m}\n",
            "rule: 'A < NOPE'",
            "forms[0].checks[0].rule",
            "Unknown item NOPE",
        ),
        (
            "      - {code: A, label: A, type: integer}\n",
            "      - {rule: 'A + 1', message: m}\n",
            "rule: 'A + 1'",
            "forms[0].checks[0].rule",
            "must be a condition",
        ),
        (
            "      - {code: A, label: A, type: integer}\n",
            "      - {rule: 'A < 3', message: m, severity: fatal}\n",
            "severity: fatal",
            "forms[0].checks[0].severity",
            "unknown severity 'fatal' (known: error, warning, query)",
        ),
    ],
)
def test_an_expression_that_does_not_type_check_refuses_the_file(
    items, checks, needle, path, message
):
    text = one_form(items, checks)
    ((line, got_path, got),) = refusals(text)
    assert (line, got_path) == (line_of(text, needle), path)
    assert message in got


def test_a_rule_may_use_today_and_a_repeating_column_only_through_an_aggregate():
    ok = with_forms(
        "forms:\n  - code: F1\n    items:\n      - {code: D, label: D, type: date}\n"
        "    groups:\n      - code: G\n        items:\n"
        "          - {code: N, label: N, type: integer}\n"
        "    checks:\n      - {rule: 'days(D, today()) >= 0 and sum(G.N) < 5', message: m}\n"
    )
    assert parse_protocol(ok).forms[0].checks[0].id == "F1-R1"
    bad = ok.replace("sum(G.N) < 5", "G.N < 5")
    ((line, path, message),) = refusals(bad)
    assert path == "forms[0].checks[0].rule" and "repeating-group column" in message


def test_every_problem_of_every_form_is_reported_at_once():
    text = one_form(
        "      - {code: A, label: A, type: integer, precision: 1}\n"
        "      - {code: B, label: B, type: yesno, unit: kg}\n",
    ).replace("forms: [RPDAI, TREG, STEROID, AE]", "forms: [RPDAI, NOPE]", 1)
    assert [path for _, path, _ in refusals(text)] == [
        "forms[0].items[0].precision",
        "forms[0].items[1].unit",
        "visits[1].forms[1]",
    ]


def test_a_form_built_in_python_gets_the_same_hash_as_the_same_form_read_from_a_file():
    form = FormSpec(
        code="F",
        name=Text("F"),
        groups=(GroupSpec("F", (ItemSpec("A", Text("A"), ItemType.INTEGER),)),),
    )
    again = form_from_data(form_to_data(form))
    assert again.content_hash == form.content_hash


ROW_CHECKS = """\
forms:
  - code: CONMED
    groups:
      - code: CM
        items:
          - {code: CMSTDTC, label: "Start", type: date}
          - {code: CMENDTC, label: "Stop", type: date}
        checks:
          - {rule: "CMENDTC >= CMSTDTC", message: "Stop before start"}
          - {id: CM9, rule: "days(CMSTDTC, CMENDTC) < 3650", message: "Ten years?",
             severity: warning}
"""


def test_a_repeating_group_reads_its_row_checks_and_writes_them_back():
    text = with_forms(ROW_CHECKS, "[RPDAI, CONMED, AE]")
    spec = parse_protocol(text)
    (group,) = spec.forms[0].groups
    assert [(c.id, c.rule, c.severity) for c in group.checks] == [
        ("CM-R1", "CMENDTC >= CMSTDTC", "error"),
        ("CM9", "days(CMSTDTC, CMENDTC) < 3650", "warning"),
    ]
    assert parse_protocol(dump_protocol(spec)) == spec
    assert form_from_data(form_to_data(spec.forms[0])) == spec.forms[0]


def test_a_row_check_is_type_checked_in_its_row_and_only_a_repeating_group_has_them():
    unknown = ROW_CHECKS.replace("CMENDTC >= CMSTDTC", "CMENDTC >= NOSUCH")
    text = with_forms(unknown, "[RPDAI, CONMED, AE]")
    ((line, path, message),) = refusals(text)
    assert (line, path) == (line_of(text, "NOSUCH"), "forms[0].groups[0].checks[0].rule")
    assert "NOSUCH" in message
    plain = ROW_CHECKS.replace("      - code: CM\n", "      - code: CM\n        repeating: false\n")
    text = with_forms(plain, "[RPDAI, CONMED, AE]")
    assert refusals(text) == [
        (
            line_of(text, '- {rule: "CMENDTC >= CMSTDTC"'),
            "forms[0].groups[0].checks",
            "'checks' applies only to repeating groups",
        )
    ]
