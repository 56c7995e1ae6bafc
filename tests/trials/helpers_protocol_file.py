"""The shipped demo protocols as text, and how a test changes one thing in a file and reads
the problems it is refused for; shared by the protocol file's tests."""

from pathlib import Path

import pytest

from trials.protocol_file import ProtocolFileError, ProtocolProblem, parse_protocol

PROTOCOLS = Path(__file__).resolve().parents[2] / "trials" / "protocols"
RP = (PROTOCOLS / "ld-il2-rp.yaml").read_text()
MOOD = (PROTOCOLS / "ld-il2-mood.yaml").read_text()


def changed(old: str, new: str, text: str = RP) -> str:
    """`text` with its single occurrence of `old` replaced (so each test changes one thing)."""
    assert text.count(old) == 1, f"{old!r} is not unique in the file"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"{needle!r} is not unique in the file"
    return text[: text.index(needle)].count("\n") + 1


def problems(text: str) -> list[ProtocolProblem]:
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text, source="rp.yaml")
    return refused.value.errors


def refused_once(text: str, needle: str, path: str, message: str) -> None:
    """The file is refused for exactly one problem, on the line holding `needle`."""
    assert problems(text) == [ProtocolProblem(line_of(text, needle), path, message)]
