"""The registry of scored instruments, looked up by the code a protocol's schedule names.

Every code here is also in `trials.forms.codes.INSTRUMENT_CODES` (the list protocol
imports are checked against); a test keeps the two in step.
"""

from .base import (
    SELF_HARM_ALERT,
    Band,
    Instrument,
    InstrumentValidationError,
    Item,
    ItemAlert,
    Score,
)
from .hamd17 import HAMD17
from .phq9 import PHQ9
from .rpdai import RPDAI
from .sledai2k import SLEDAI2K

__all__ = [
    "SELF_HARM_ALERT",
    "Band",
    "Instrument",
    "InstrumentValidationError",
    "Item",
    "ItemAlert",
    "Score",
    "UnknownInstrument",
    "alert_codes",
    "all_instruments",
    "get",
]

_REGISTRY: dict[str, Instrument] = {
    instrument.code: instrument for instrument in (HAMD17, PHQ9, RPDAI, SLEDAI2K)
}


class UnknownInstrument(LookupError):
    """No instrument has this code (a LookupError, deliberately not a KeyError)."""

    def __init__(self, code):
        super().__init__(f"No instrument has the code {code!r}.")
        self.code = code


def get(code: str) -> Instrument:
    try:
        return _REGISTRY[code]
    except (KeyError, TypeError):
        raise UnknownInstrument(code) from None


def all_instruments() -> list[Instrument]:
    """Every instrument, ordered by code."""
    return [_REGISTRY[code] for code in sorted(_REGISTRY)]


def alert_codes() -> frozenset[str]:
    """Every alert code some instrument can raise: what the investigators must receive."""
    return frozenset(alert.code for i in _REGISTRY.values() for alert in i.item_alerts)
