"""Studies, sites, memberships and their versioned protocols."""

from .protocol import (
    AnswerType,
    Arm,
    CriterionKind,
    DoseBasis,
    DosingPhase,
    EligibilityCriterion,
    FormDefinition,
    ProtocolVersion,
    ReminderEvent,
    ReminderRule,
    Stratum,
    VersionStatus,
    VisitDefinition,
)
from .study import Blinding, Membership, Role, Site, Study

__all__ = [
    "AnswerType",
    "Arm",
    "Blinding",
    "CriterionKind",
    "DoseBasis",
    "DosingPhase",
    "EligibilityCriterion",
    "FormDefinition",
    "Membership",
    "ProtocolVersion",
    "ReminderEvent",
    "ReminderRule",
    "Role",
    "Site",
    "Stratum",
    "Study",
    "VersionStatus",
    "VisitDefinition",
]
