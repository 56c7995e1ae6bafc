"""The form codes a protocol's visit schedule may name.

A protocol file naming any other code is refused on import. They are shared vocabulary: the
protocol (trials) names them and the capture (assessments) answers them, so they live in the
lower of the two layers. Each scored instrument in `assessments.instruments` has its code
here; the others are forms with their own models.
"""

ELIGIBILITY = "ELIG"
ADVERSE_EVENTS = "AE"
TREG_PANEL = "TREG"
STEROID_DOSE = "STEROID"

INSTRUMENT_CODES = frozenset({"RPDAI", "HAMD17", "PHQ9", "SLEDAI2K"})
FORM_CODES = INSTRUMENT_CODES | {ELIGIBILITY, ADVERSE_EVENTS, TREG_PANEL, STEROID_DOSE}

#: The protocol-defined form whose baseline weight (kg) and height (cm) size a dose by body
#: size (`dosing.phases[].per`): a file dosing per kg or per m² must define it with these
#: items and schedule it at a visit on or before day 1 (the protocol file refuses it
#: otherwise), and saving it at the baseline visit sizes the planned doses.
VITALS = "VITALS"
BODY_WEIGHT = "WEIGHT"
BODY_HEIGHT = "HEIGHT"

#: The protocol-defined form of concomitant medication whose glucocorticoid rows add to the
#: day's prednisone-equivalent total of a steroid dose (`assessments.glucocorticoids`): a
#: repeating group of rows with these items, the row's glucocorticoid (a code of
#: `assessments.derivations.PREDNISONE_EQUIVALENT`, blank for any other drug) and its
#: calculated daily prednisone equivalent. A protocol without it (or without these items)
#: adds nothing to the steroid dose.
CONMED = "CONMED"
CONMED_ROWS = "CM"
CM_DRUG = "CMTRT"
CM_START = "CMSTDTC"
CM_ONGOING = "CMONGO"
CM_STOP = "CMENDTC"
CM_GLUCOCORTICOID = "CMGC"
CM_PREDNISONE_EQ = "CMPREDEQ"
