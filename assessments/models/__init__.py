"""What is recorded at visits: scored instruments, Treg panels, steroid doses, dose log."""

from .doses import DoseAdministration, InjectionSite, LocalReaction
from .records import (
    InstrumentAlert,
    InstrumentResponse,
    SteroidDose,
    SteroidDrug,
    TregPanel,
)

__all__ = [
    "DoseAdministration",
    "InjectionSite",
    "InstrumentAlert",
    "InstrumentResponse",
    "LocalReaction",
    "SteroidDose",
    "SteroidDrug",
    "TregPanel",
]
