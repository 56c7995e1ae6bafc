"""The coded values of an adverse event: CTCAE grade, WHO-UMC causality, ICH E2A
seriousness, and the SDTM controlled terms for action taken (AEACN) and outcome (AEOUT).

Stored values are the SDTM terms themselves so exports write them as they are.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.IntegerChoices):
    """CTCAE v5.0 grades (AETOXGR). Integers, so "most severe first" is a plain sort."""

    MILD = 1, _("1 – Mild")
    MODERATE = 2, _("2 – Moderate")
    SEVERE = 3, _("3 – Severe or medically significant")
    LIFE_THREATENING = 4, _("4 – Life-threatening")
    DEATH = 5, _("5 – Death related to AE")


class Relationship(models.TextChoices):
    """Causality to the study drug on the WHO-UMC scale (AEREL)."""

    CERTAIN = "certain", _("Certain")
    PROBABLE = "probable", _("Probable / likely")
    POSSIBLE = "possible", _("Possible")
    UNLIKELY = "unlikely", _("Unlikely")
    CONDITIONAL = "conditional", _("Conditional / unclassified")
    UNASSESSABLE = "unassessable", _("Unassessable / unclassifiable")


class Expectedness(models.TextChoices):
    """Against the reference safety information (investigator's brochure / SmPC)."""

    EXPECTED = "expected", _("Expected")
    UNEXPECTED = "unexpected", _("Unexpected")


class ActionTaken(models.TextChoices):
    """Action taken with the study drug: SDTM AEACN terms."""

    DOSE_NOT_CHANGED = "DOSE NOT CHANGED", _("Dose not changed")
    DOSE_REDUCED = "DOSE REDUCED", _("Dose reduced")
    DRUG_INTERRUPTED = "DRUG INTERRUPTED", _("Drug interrupted")
    DRUG_WITHDRAWN = "DRUG WITHDRAWN", _("Drug withdrawn")
    NOT_APPLICABLE = "NOT APPLICABLE", _("Not applicable")
    UNKNOWN = "UNKNOWN", _("Unknown")


class Outcome(models.TextChoices):
    """SDTM AEOUT terms."""

    RECOVERED = "RECOVERED/RESOLVED", _("Recovered / resolved")
    RECOVERING = "RECOVERING/RESOLVING", _("Recovering / resolving")
    NOT_RECOVERED = "NOT RECOVERED/NOT RESOLVED", _("Not recovered / not resolved")
    RECOVERED_WITH_SEQUELAE = (
        "RECOVERED/RESOLVED WITH SEQUELAE",
        _("Recovered / resolved with sequelae"),
    )
    FATAL = "FATAL", _("Fatal")
    UNKNOWN = "UNKNOWN", _("Unknown")


#: Outcomes that describe an event still going on, and ones that describe an ended event.
ONGOING_OUTCOMES = (Outcome.RECOVERING, Outcome.NOT_RECOVERED)
ENDED_OUTCOMES = (Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE, Outcome.FATAL)


class Seriousness(models.TextChoices):
    """ICH E2A seriousness criteria; the value is the API code, the model has a flag each."""

    DEATH = "death", _("Results in death")
    LIFE_THREATENING = "life_threatening", _("Life-threatening")
    HOSPITALISATION = "hospitalisation", _("Requires or prolongs hospitalisation")
    DISABILITY = "disability", _("Persistent or significant disability / incapacity")
    CONGENITAL_ANOMALY = "congenital_anomaly", _("Congenital anomaly / birth defect")
    MEDICALLY_IMPORTANT = "medically_important", _("Other important medical event")


#: Seriousness code → model flag (SDTM AESDTH, AESLIFE, AESHOSP, AESDISAB, AESCONG, AESMIE).
SERIOUSNESS_FIELDS = {
    Seriousness.DEATH: "results_in_death",
    Seriousness.LIFE_THREATENING: "life_threatening",
    Seriousness.HOSPITALISATION: "hospitalisation",
    Seriousness.DISABILITY: "disability",
    Seriousness.CONGENITAL_ANOMALY: "congenital_anomaly",
    Seriousness.MEDICALLY_IMPORTANT: "medically_important",
}


class DeadlineKind(models.TextChoices):
    SPONSOR = "sponsor", _("Report to sponsor (24 h)")
    REGULATOR = "regulator", _("SUSAR report to regulator")
    REGULATOR_COMPLETE = "regulator_complete", _("Complete SUSAR report to regulator")


#: Per deadline kind: the stored due time and the stored report time.
DEADLINE_FIELDS = {
    DeadlineKind.SPONSOR: ("sponsor_report_due", "sponsor_reported_at"),
    DeadlineKind.REGULATOR: ("regulator_report_due", "regulator_reported_at"),
    DeadlineKind.REGULATOR_COMPLETE: (
        "regulator_complete_report_due",
        "regulator_complete_reported_at",
    ),
}

#: Clinical fields a user enters and later updates (follow-up); the rest is derived.
CLINICAL_FIELDS = (
    "term",
    "meddra_code",
    "meddra_term",
    "onset_date",
    "end_date",
    "ongoing",
    "grade",
    "serious",
    *SERIOUSNESS_FIELDS.values(),
    "relationship",
    "expectedness",
    "action_taken",
    "outcome",
    "death_date",
    "awareness_at",
    "visit",
)
