"""A REDCap data dictionary becomes draft forms: REDCap's field types, validations, choices,
calculations and branching logic translated into the registry's, and anything that does not
translate refused whole, every problem with its row."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assessments.instruments.phq9 import PHQ9
from tests.trials.helpers_forms import with_forms
from tests.trials.helpers_redcap import dictionary
from trials.forms.codes import FORM_CODES
from trials.forms.expressions import ItemType, evaluate, is_shown, parse
from trials.forms.redcap_import import DictionaryRefused, import_dictionary
from trials.protocol_file import parse_protocol

PHQ9_CSV = (Path(__file__).parent / "data" / "redcap-phq9.csv").read_text(encoding="utf-8")


def refusals(text: str, **options) -> list[tuple[int | None, str, str]]:
    with pytest.raises(DictionaryRefused) as caught:
        import_dictionary(text, **options)
    return [(p.row, p.field, p.message) for p in caught.value.problems]


# -- PHQ-9 as the REDCap Shared Library publishes it ---------------------------------------


@pytest.fixture
def phq9():
    imported = import_dictionary(PHQ9_CSV)
    (form,) = imported.forms
    return form, imported.notes


def test_the_phq9_dictionary_imports_as_nine_choice_items_a_total_and_a_branching_item(phq9):
    form, _notes = phq9
    assert form.code == "patient_health_questionnaire_9"
    assert str(form.name) == "Patient health questionnaire 9"
    items = {item.code: item for item in form.items}
    assert list(items) == [f"phq{n}" for n in range(1, 10)] + ["phq_total", "phq_difficulty"]
    phq1 = items["phq1"]
    assert phq1.type == ItemType.CHOICE and phq1.required
    assert [(code, str(label)) for code, label in phq1.codes] == [
        ("0", "Not at all"),
        ("1", "Several days"),
        ("2", "More than half the days"),
        ("3", "Nearly every day"),
    ]
    total = items["phq_total"]
    assert total.type == ItemType.DECIMAL
    # REDCap reads a radio button as its number in arithmetic: value() here.
    assert total.calc == "sum(" + ", ".join(f"value(phq{n})" for n in range(1, 10)) + ")"
    assert str(total.help) == "0-27"  # a range, not a unit
    assert total.unit == ""
    assert items["phq_difficulty"].show_if == "phq_total > 0"


def test_what_the_phq9_import_leaves_out_is_said_row_by_row(phq9):
    _form, notes = phq9
    by_row: dict = {}
    for note in notes:
        by_row.setdefault((note.row, note.field), "")
        by_row[(note.row, note.field)] += note.message
    assert "descriptive" in by_row[(2, "phq_intro")]
    assert "section header" in by_row[(3, "phq1")]
    assert all("matrix group" in by_row[(row, f"phq{row - 2}")] for row in range(4, 12))


ANSWER_SETS = {
    "all zeros": [0] * 9,
    "maximum": [3] * 9,
    "mixed": [1, 2, 0, 3, 1, 0, 2, 1, 0],
    "moderately severe": [3, 3, 2, 2, 2, 1, 1, 2, 0],
}


@pytest.mark.parametrize("answers", ANSWER_SETS.values(), ids=ANSWER_SETS.keys())
def test_the_imported_phq9_total_is_the_built_in_instruments_score(phq9, answers):
    form, _notes = phq9
    values = {f"phq{n}": str(answer) for n, answer in enumerate(answers, start=1)}
    total = evaluate(parse(form.item("phq_total").calc), values)
    built_in = PHQ9.score({f"P{n}": a for n, a in enumerate(answers, start=1)} | {"P10": 0})
    assert total == Decimal(built_in.total)
    shown = is_shown(parse(form.item("phq_difficulty").show_if), values | {"phq_total": total})
    assert shown is (built_in.total > 0)


def test_the_worked_totals_are_the_published_ones(phq9):
    form, _notes = phq9
    calc = parse(form.item("phq_total").calc)
    totals = [
        evaluate(calc, {f"phq{n}": str(a) for n, a in enumerate(answers, start=1)})
        for answers in ANSWER_SETS.values()
    ]
    assert totals == [0, 27, 10, 16]


def test_the_imported_phq9_pastes_into_a_protocol_file_as_is(phq9):
    form, _notes = phq9
    imported_yaml = import_dictionary(PHQ9_CSV).yaml()
    protocol = parse_protocol(with_forms(imported_yaml))
    (loaded,) = protocol.forms
    assert loaded.content_hash == form.content_hash


# -- The mapping, field type by field type -------------------------------------------------


def test_text_validations_become_typed_items_and_notes_a_unit_or_a_help():
    form = import_dictionary(
        dictionary(
            {"name": "age", "type": "text", "label": "Age", "validation": "integer"},
            {
                "name": "crp",
                "type": "text",
                "label": "CRP",
                "validation": "number_2dp",
                "note": "mg/L",
            },
            {
                "name": "wt",
                "type": "text",
                "label": "Weight",
                "validation": "number",
                "note": "Weigh without shoes",
            },
            {"name": "visit", "type": "text", "label": "Visit date", "validation": "date_ymd"},
            {"name": "seen", "type": "text", "label": "Seen at", "validation": "datetime_dmy"},
            {"name": "initials", "type": "text", "label": "Initials", "note": "Two letters"},
            {"name": "comment", "type": "notes", "label": "Comment"},
        )
    ).forms[0]
    types = {item.code: (item.type, item.precision) for item in form.items}
    assert types == {
        "age": (ItemType.INTEGER, None),
        "crp": (ItemType.DECIMAL, 2),
        "wt": (ItemType.DECIMAL, None),
        "visit": (ItemType.DATE, None),
        "seen": (ItemType.DATETIME, None),
        "initials": (ItemType.TEXT, None),
        "comment": (ItemType.TEXT, None),
    }
    assert form.item("crp").unit == "mg/L"
    assert (form.item("wt").unit, str(form.item("wt").help)) == ("", "Weigh without shoes")
    assert str(form.item("initials").help) == "Two letters"


def test_redcap_min_and_max_warn_unless_forced():
    form = import_dictionary(
        dictionary(
            {
                "name": "sbp",
                "type": "text",
                "label": "SBP",
                "validation": "integer",
                "min": "85",
                "max": "180",
            },
            {
                "name": "temp",
                "type": "text",
                "label": "Temperature",
                "validation": "number_1dp",
                "min": "34",
                "max": "43",
                "annotation": "@FORCE-MINMAX",
            },
            {"name": "pain", "type": "slider", "label": "Pain", "choices": "None | | Worst"},
        )
    ).forms[0]
    sbp, temp, pain = form.items
    assert (sbp.range, sbp.soft_range) == (None, (Decimal(85), Decimal(180)))
    assert (temp.range, temp.soft_range) == ((Decimal(34), Decimal(43)), None)
    assert (pain.type, pain.range) == (ItemType.INTEGER, (Decimal(0), Decimal(100)))
    assert str(pain.help) == "None / Worst"


def test_choices_checkboxes_and_yes_no_fields_with_their_branching_logic():
    form = import_dictionary(
        dictionary(
            {"name": "fever", "type": "yesno", "label": "Fever"},
            {
                "name": "temp",
                "type": "text",
                "label": "Highest temperature",
                "validation": "number",
                "branching": "[fever] = '1'",
            },
            {
                "name": "sites",
                "type": "checkbox",
                "label": "Sites",
                "choices": "1, Ear | 2, Nose | 3, Larynx",
            },
            {
                "name": "nose",
                "type": "truefalse",
                "label": "Nasal biopsy",
                "branching": "[sites(2)] = '1' and [sites(1)] = '0'",
            },
            {
                "name": "grade",
                "type": "dropdown",
                "label": "Grade",
                "choices": "1, Mild | 2, Severe",
                "branching": "[fever] <> '0' or [temp] >= 38.5",
            },
            {
                "name": "severe",
                "type": "radio",
                "label": "Why severe",
                "choices": "A, Pain | B, Other",
                "branching": "[grade] = 2",
            },
            {
                "name": "score",
                "type": "calc",
                "label": "Score",
                "choices": "if([fever] = '1', 2, 0) + [grade] * 3 + [sites(3)]",
            },
        )
    ).forms[0]
    show = {item.code: item.show_if for item in form.items}
    assert show["temp"] == "fever == 'Y'"
    assert show["nose"] == "has(sites, '2') and not has(sites, '1')"
    assert show["grade"] == "fever != 'N' or temp >= 38.5"
    assert show["severe"] == "grade == '2'"
    assert form.item("sites").type == ItemType.MULTICHOICE
    assert form.item("nose").type == ItemType.YESNO
    assert form.item("grade").type == ItemType.CHOICE
    assert form.item("score").calc == (
        "if(fever == 'Y', 2, 0) + value(grade) * 3 + if(has(sites, '3'), 1, 0)"
    )


def test_datediff_in_days_becomes_days_absolute_unless_signed():
    form = import_dictionary(
        dictionary(
            {"name": "onset", "type": "text", "label": "Onset", "validation": "date_ymd"},
            {"name": "stop", "type": "text", "label": "Stop", "validation": "date_ymd"},
            {
                "name": "length",
                "type": "calc",
                "label": "Days",
                "choices": 'datediff([onset], [stop], "d", "ymd")',
            },
            {
                "name": "signed",
                "type": "calc",
                "label": "Signed",
                "choices": 'datediff([onset],[stop],"d",true)',
            },
        )
    ).forms[0]
    assert form.item("length").calc == "abs(days(onset, stop))"
    assert form.item("signed").calc == "days(onset, stop)"


def test_a_built_in_forms_code_is_refused_when_the_form_is_for_a_protocol_file():
    text = dictionary(
        {
            "form": "phq9",
            "name": "x",
            "type": "text",
            "label": "X",
            "annotation": '@IL2-FORM={"code": "PHQ9", "name": "PHQ-9"}',
        }
    )
    assert refusals(text, builtin=FORM_CODES) == [
        (None, "PHQ9", "PHQ9 is a built-in form's code: give the form another code.")
    ]
    assert import_dictionary(text, builtin=FORM_CODES, code="MYPHQ").forms[0].code == "MYPHQ"


def test_one_form_of_several_can_be_chosen():
    text = dictionary(
        {"form": "vitals", "name": "weight", "type": "text", "label": "Weight"},
        {"form": "labs", "name": "crp", "type": "text", "label": "CRP"},
    )
    assert [form.code for form in import_dictionary(text).forms] == ["vitals", "labs"]
    assert [form.code for form in import_dictionary(text, form="labs").forms] == ["labs"]
    assert refusals(text, form="ae")[0][2].startswith("The dictionary has no form ae")


# -- Refusals ------------------------------------------------------------------------------


def test_every_problem_of_the_file_is_reported_at_once_with_its_row():
    text = dictionary(
        {"name": "photo", "type": "image", "label": "Photo"},
        {"name": "bmi", "type": "calc", "label": "BMI", "choices": "sqrt([photo])"},
        {"name": "ok", "type": "text", "label": "Fine"},
        {"name": "why", "type": "text", "label": "Why", "branching": "[reason] = '1'"},
        {"name": "grade", "type": "radio", "label": "Grade", "choices": "1, Mild | 1, Severe"},
    )
    problems = refusals(text)
    assert [(row, field) for row, field, _ in problems] == [
        (2, "photo"),
        (3, "bmi"),
        (5, "why"),
        (6, "grade"),
    ]
    messages = [message for _, _, message in problems]
    assert messages[0] == "Unknown field type 'image'."
    assert "sqrt() has no equivalent" in messages[1]
    assert "[reason], which is not a field of the dictionary" in messages[2]
    assert messages[3] == "The choice code '1' is used twice."


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"type": "text", "validation": "email"}, "The text validation 'email' has no equivalent"),
        ({"type": "calc", "choices": 'datediff([d], "today", "y")'}, "datediff() in 'y'"),
        ({"type": "calc", "choices": "roundup([n], 1)"}, "roundup() has no equivalent"),
        ({"type": "text", "branching": "[event_1_arm_1][n] = 1"}, "another event"),
        ({"type": "text", "branching": "[n:value] = 1"}, "modifiers"),
        ({"type": "text", "annotation": "@HIDDEN"}, "@HIDDEN has no equivalent"),
        ({"type": "text", "label": "Since [d], any fever?"}, "Piping [d]"),
        ({"type": "text", "validation": "integer", "min": "0"}, "Give both"),
        ({"type": "text", "min": "2020-01-01", "max": "today"}, "only numbers have ranges"),
        ({"type": "file"}, "A file field has no equivalent."),
        ({"type": "radio"}, "needs its choices"),
        ({"type": "text", "branching": "[n] > 'x'"}, "reads as \"n > 'x'\", which is refused"),
        ({"type": "checkbox", "choices": "1, A", "branching": "[x] = 1"}, "checkbox"),
    ],
)
def test_what_does_not_translate_refuses_the_row(row, expected):
    text = dictionary(
        {"name": "d", "type": "text", "label": "Date", "validation": "date_ymd"},
        {"name": "n", "type": "text", "label": "Number", "validation": "integer"},
        {"name": "x", "label": "The field", **row},
    )
    problems = refusals(text)
    assert [(r, f) for r, f, _ in problems] == [(4, "x")], problems
    assert expected in problems[0][2]


def test_a_field_of_another_form_cannot_be_read():
    text = dictionary(
        {"form": "a", "name": "n", "type": "text", "label": "N", "validation": "integer"},
        {"form": "b", "name": "m", "type": "text", "label": "M", "branching": "[n] > 1"},
    )
    assert refusals(text) == [
        (3, "m", "Branching logic refers to [n] of the form a: a form reads only its own items.")
    ]


def test_a_calculation_depending_on_itself_is_refused_on_its_row():
    text = dictionary(
        {"name": "n", "type": "text", "label": "N", "validation": "integer"},
        {"name": "a", "type": "calc", "label": "A", "choices": "[b] + 1"},
        {"name": "b", "type": "calc", "label": "B", "choices": "[a] + [n]"},
    )
    ((row, field, message),) = refusals(text)
    assert (row, field) == (3, "a")
    assert "depends on itself" in message


@pytest.mark.parametrize(
    "annotation",
    [
        '@IL2-FORM={"code": "F", "name": 5}',
        '@IL2-GROUP={"code": "G", "name": ["x"]}',
        '@IL2-CHECK={"id": "R", "rule": "n > 1", "message": {"en": 1}}',
        "@IL2-CODES=[[1, 2]]",
        "@IL2-LABEL=[]",
        '@IL2-GROUP={"code": "G", "key": "n"}',
    ],
)
def test_a_hand_edited_il2_tag_of_the_wrong_shape_is_refused(annotation):
    text = dictionary(
        {"name": "n", "type": "radio", "label": "N", "choices": "1, A", "annotation": annotation}
    )
    ((row, field, message),) = refusals(text)
    assert (row, field) == (2, "n")
    assert message.startswith("@IL2-")


def test_a_file_that_is_not_a_data_dictionary_is_refused_on_its_first_row():
    assert refusals("code,label\nA,B\n")[0][:2] == (1, "")
    assert refusals("")[0][2] == "The file is empty."


def test_a_projects_record_identifier_is_left_out_with_a_note():
    imported = import_dictionary(
        dictionary(
            {"name": "record_id", "type": "text", "label": "Record ID"},
            {"name": "age", "type": "text", "label": "Age", "validation": "integer"},
        )
    )
    assert [item.code for item in imported.forms[0].items] == ["age"]
    assert imported.notes[0].field == "record_id"


# -- The command ---------------------------------------------------------------------------

PHQ9_PATH = Path(__file__).parent / "data" / "redcap-phq9.csv"


def test_the_command_prints_the_forms_section_and_the_notes():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_redcap_dictionary", str(PHQ9_PATH), "--code", "PHQ9X", stdout=out, stderr=err
    )
    (form,) = parse_protocol(with_forms(out.getvalue())).forms
    assert form.code == "PHQ9X"
    assert f"{PHQ9_PATH}: row 2 (phq_intro): A descriptive field" in err.getvalue()


def test_the_command_writes_the_yaml_to_a_file(tmp_path):
    target = tmp_path / "forms.yaml"
    out = io.StringIO()
    call_command(
        "import_redcap_dictionary",
        str(PHQ9_PATH),
        "--output",
        str(target),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert target.read_text(encoding="utf-8").startswith("forms:\n")
    assert "Wrote patient_health_questionnaire_9" in out.getvalue()


def test_the_command_refuses_a_dictionary_with_each_problem_and_its_row(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(
        dictionary(
            {"name": "a", "type": "image", "label": "A"},
            {"name": "b", "type": "radio", "label": "B", "choices": "1, X | 1, Y"},
        ),
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as caught:
        call_command("import_redcap_dictionary", str(source), stdout=io.StringIO())
    assert str(caught.value).splitlines() == [
        "Nothing was imported.",
        f"{source}: row 2 (a): Unknown field type 'image'.",
        f"{source}: row 3 (b): The choice code '1' is used twice.",
    ]


def test_the_command_refuses_a_built_in_forms_code():
    with pytest.raises(CommandError, match="PHQ9 is a built-in form's code"):
        call_command(
            "import_redcap_dictionary",
            str(PHQ9_PATH),
            "--code",
            "PHQ9",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


@pytest.mark.parametrize(
    ("logic", "expected"),
    [
        ("(" * 400 + "[n]" + ")" * 400, "too complex"),
        ("-" * 900 + "[n] > 1", "too complex"),
        ("[n] + " * 400 + "1 > 2", "at most 2000 characters"),
    ],
)
def test_hostile_logic_is_refused_not_a_crash(logic, expected):
    text = dictionary(
        {"name": "n", "type": "text", "label": "N", "validation": "integer"},
        {"name": "x", "type": "text", "label": "X", "branching": logic},
    )
    ((row, field, message),) = refusals(text)
    assert (row, field) == (3, "x")
    assert expected in message


def test_a_file_the_csv_reader_cannot_read_is_refused():
    header = dictionary().splitlines()[0]
    assert "not readable CSV" in refusals(header + '\n"' + "x" * 200_000 + '"\n')[0][2]
