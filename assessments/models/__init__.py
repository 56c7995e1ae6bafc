"""What is recorded at visits: scored instruments, Treg panels, steroid doses, dose log."""

from .doses import DoseAdministration, InjectionSite, LocalReaction
from .records import (
    FormRecord,
    InstrumentAlert,
    InstrumentResponse,
    ItemLabels,
    SteroidDose,
    SteroidDrug,
    TregPanel,
)

__all__ = [
    "DoseAdministration",
    "FormRecord",
    "ItemLabels",
    "InjectionSite",
    "InstrumentAlert",
    "InstrumentResponse",
    "LocalReaction",
    "SteroidDose",
    "SteroidDrug",
    "TregPanel",
]
