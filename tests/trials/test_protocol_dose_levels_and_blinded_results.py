"""The protocol file's `dosing.dose_levels` and `version.blinded_results`: read, refused
with their line, stored with the version and written back unchanged."""

from decimal import Decimal

import pytest

from tests.factories import load_demo_protocol
from tests.trials.helpers_protocol_file import MOOD, RP, changed, problems, refused_once
from trials.protocol_file import ProtocolProblem, dump_protocol, parse_protocol
from trials.services import spec_from_version


def test_the_demo_files_list_their_dose_levels_and_mood_blinds_its_treg_panel():
    assert parse_protocol(RP).dosing.dose_levels == (Decimal("0.5"), Decimal("0.25"))
    assert parse_protocol(RP).version.blinded_results == ()
    mood = parse_protocol(MOOD)
    assert mood.version.blinded_results == ("TREG",)
    assert mood.dosing.dose_levels == (Decimal("1"), Decimal("0.5"))


def test_both_keys_are_optional():
    text = changed("  dose_levels: [0.5, 0.25]\n", "")
    assert parse_protocol(text).dosing.dose_levels == ()


@pytest.mark.parametrize(
    ("levels", "path", "message"),
    [
        ("[0.5, 0]", "dosing.dose_levels[1]", "must be greater than 0, got 0"),
        ("[0.5, 0.5]", "dosing.dose_levels[1]", "dose level 0.5 is listed twice"),
        ("[half]", "dosing.dose_levels[0]", "must be a number, got a string 'half'"),
        ("[]", "dosing.dose_levels", "must list at least one entry"),
    ],
)
def test_bad_dose_levels_are_refused_on_their_line(levels, path, message):
    text = changed("dose_levels: [0.5, 0.25]", f"dose_levels: {levels}")
    refused_once(text, "dose_levels", path, message)


def test_a_blinded_result_must_be_a_known_form():
    text = changed("blinded_results: [TREG]", "blinded_results: [TREG, CD4]", MOOD)
    (problem,) = problems(text)
    assert isinstance(problem, ProtocolProblem)
    assert problem.path == "version.blinded_results[1]"
    assert "unknown form 'CD4'" in problem.message


def test_a_form_the_file_defines_may_be_a_blinded_result():
    text = changed("blinded_results: [TREG]", "blinded_results: [TREG, VITALS]", MOOD)
    text += (
        "forms:\n  - code: VITALS\n    items:\n"
        "      - {code: WEIGHT, label: Weight, type: decimal, precision: 1, unit: kg}\n"
    )
    assert parse_protocol(text).version.blinded_results == ("TREG", "VITALS")


@pytest.mark.parametrize("name", ["ld-il2-rp.yaml", "ld-il2-mood.yaml"])
def test_stored_and_exported_the_keys_read_back_the_same(db, name):
    version = load_demo_protocol(name)
    spec = spec_from_version(version)
    assert parse_protocol(dump_protocol(spec)) == spec
    text = RP if name == "ld-il2-rp.yaml" else MOOD
    assert spec.dosing.dose_levels == parse_protocol(text).dosing.dose_levels
    assert spec.version.blinded_results == parse_protocol(text).version.blinded_results
