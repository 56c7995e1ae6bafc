"""Studies, sites, memberships and their versioned protocols."""

from .protocol import (
    AnswerType,
    Arm,
    CriterionKind,
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
from .worklist import ChangesSeen

__all__ = [
    "AnswerType",
    "Arm",
    "Blinding",
    "ChangesSeen",
    "CriterionKind",
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
