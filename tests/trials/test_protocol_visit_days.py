"""Visit days make one consistent schedule: unique, in order, screening only before day 1.

A typo such as day -57 for day 57 must be refused, not imported as a visit two months before
baseline. A visit is a screening visit when it says `screening: true`; only those come
before day 1, and their windows end before baseline.
"""

from pathlib import Path

import pytest

from trials.protocol_file import ProtocolFileError, ProtocolProblem, VisitSpec, parse_protocol

RP = (Path(__file__).resolve().parents[2] / "trials" / "protocols" / "ld-il2-rp.yaml").read_text()
W8 = "{code: W8,  name: Week 8,   day: 57, window: [-3, 3], forms: [RPDAI, TREG, STEROID, AE]}"


def changed(old: str, new: str) -> str:
    assert RP.count(old) == 1, f"{old!r} is not unique in the file"
    return RP.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def problems(text: str) -> list[ProtocolProblem]:
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text, source="rp.yaml")
    return refused.value.errors


def with_screening(entry: str) -> str:
    return changed("visits:", "visits:\n  - " + entry)


def test_a_visit_on_day_minus_57_is_refused_as_before_baseline_and_out_of_order():
    text = changed("day: 57,", "day: -57,")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "day: -57"),
            "visits[2].day",
            "day -57 is before baseline (day 1): only a screening visit (screening: true) "
            "comes before day 1",
        ),
        ProtocolProblem(
            line_of(text, "day: -57"),
            "visits[2].day",
            "day -57 comes after visit 'W4' on day 29: list visits in the order of their days",
        ),
    ]


def test_two_visits_on_the_same_day_are_refused():
    text = changed("day: 57,", "day: 29,")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "W8"),
            "visits[2].day",
            f"day 29 is already the day of visit 'W4' (line {line_of(text, 'W4,')})",
        )
    ]


def test_a_screening_visit_before_baseline_is_accepted_and_marked():
    spec = parse_protocol(
        with_screening(
            "{code: SCR, name: Screening, day: -14, window: [-7, 0], forms: [ELIG], "
            "screening: true}"
        )
    )

    assert spec.visits[0] == VisitSpec("SCR", "Screening", -14, (-7, 0), ("ELIG",), True)
    assert not any(visit.screening for visit in spec.visits[1:])


def test_a_visit_before_baseline_without_the_screening_mark_is_refused():
    text = with_screening("{code: SCR, name: Screening, day: -14, window: [-7, 0], forms: [ELIG]}")

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "day: -14"),
            "visits[0].day",
            "day -14 is before baseline (day 1): only a screening visit (screening: true) "
            "comes before day 1",
        )
    ]


def test_a_screening_visit_on_or_after_baseline_is_refused():
    text = with_screening(
        "{code: SCR, name: Screening, day: 1, window: [0, 0], forms: [ELIG], screening: true}"
    )

    assert ProtocolProblem(
        line_of(text, "screening: true"),
        "visits[0].screening",
        "a screening visit comes before baseline: its day must be -1 or earlier, got 1",
    ) in problems(text)


def test_a_screening_window_reaching_baseline_is_refused():
    text = with_screening(
        "{code: SCR, name: Screening, day: -2, window: [-7, 3], forms: [ELIG], screening: true}"
    )

    assert problems(text) == [
        ProtocolProblem(
            line_of(text, "window: [-7, 3]"),
            "visits[0].window",
            "the window of a screening visit must end before baseline (day 1): "
            "day -2 + 3 reaches day 2",
        )
    ]


def test_a_treatment_visit_window_reaching_back_before_baseline_is_refused():
    text = changed("day: 29, window: [-3, 3]", "day: 2, window: [-3, 3]")

    assert ProtocolProblem(
        line_of(text, "day: 2,"),
        "visits[1].window",
        "the window of a visit from baseline on must not open before day 1: "
        "day 2 - 3 reaches day -2",
    ) in problems(text)
