"""Participants: screening, eligibility, consent, randomisation and their calendars."""

from .dose_modification import DoseModification, ModificationKind
from .journey import Consent, EligibilityAssessment, Unblinding
from .participant import Participant, ParticipantStatus, Sex
from .randomisation import RandomisationList, RandomisationSlot
from .schedule import DoseStatus, PlannedDose, ScheduledVisit, VisitStatus

__all__ = [
    "Consent",
    "DoseModification",
    "DoseStatus",
    "EligibilityAssessment",
    "ModificationKind",
    "Participant",
    "ParticipantStatus",
    "PlannedDose",
    "RandomisationList",
    "RandomisationSlot",
    "ScheduledVisit",
    "Sex",
    "Unblinding",
    "VisitStatus",
]
