"""A protocol file nobody could have meant is refused with a line, never a crash."""

import pytest

from trials.protocol_file import ProtocolFileError, ProtocolProblem, parse_protocol
from trials.protocol_validation import MAX_NESTING


def refusal(text: str) -> list[ProtocolProblem]:
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text, source="deep.yaml")
    return refused.value.errors


def test_a_file_nested_five_thousand_lists_deep_is_refused_with_its_line():
    text = "study:\n  code: " + "[" * 5000 + "]" * 5000 + "\n"

    problems = refusal(text)

    assert problems == [
        ProtocolProblem(
            2,
            "",
            f"the file is nested more than {MAX_NESTING} levels deep: a protocol file never is",
        )
    ]


def test_a_file_nested_thousands_of_mappings_deep_is_refused_too():
    text = "study:\n" + "".join("  " * depth + "a:\n" for depth in range(1, 3000))

    problems = refusal(text)

    assert len(problems) == 1
    assert problems[0].line is not None
    assert "nested more than" in problems[0].message
