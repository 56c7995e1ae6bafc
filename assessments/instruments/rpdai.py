"""RPDAI: the Relapsing Polychondritis Disease Activity Index.

Source: Arnaud L et al., "The Relapsing Polychondritis Disease Activity Index: development of
a disease activity score for relapsing polychondritis", Autoimmun Rev 2012;12:204-9; weights
as tabulated in Rednic S et al., RMD Open 2018;4(Suppl 1):e000788, Table 2
(docs/INSTRUMENTS.md, "RPDAI"). Each item is present or absent over the last 28 days,
counted only when attributable to relapsing polychondritis; the score is the sum of the
weights of the items present. The weights sum to 265, but the two respiratory chondritis
items grade one organ at two severities and exclude each other, so the highest reachable
score is 265 - 14 = 251. Complete response, the seed study's outcome, is a score of 0.

Item codes are at most 8 characters so they can serve as SDTM QSTESTCD values.

Chinese text: no validated Chinese version exists; the labels are the project's own
translation (docs/TRANSLATION.md).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import ALL, BOOLEAN, Group, Instrument, Item

RESPIRATORY = "RESPCH"
RESPIRATORY_FAILURE = "RESPCHF"


# The form shows the items by organ (the order of the items, and so of the exports, stays
# the published table's): a group is layout only, see base.Group.
GENERAL = Group("GENERAL", gettext_lazy("General"))
JOINTS = Group("JOINTS", gettext_lazy("Joints and chest wall"))
EARNOSE = Group("EARNOSE", gettext_lazy("Ears and nose"))
EYES = Group("EYES", gettext_lazy("Eyes"))
SKIN = Group("SKIN", gettext_lazy("Skin"))
KIDNEYS = Group("KIDNEYS", gettext_lazy("Kidneys"))
HEART = Group("HEART", gettext_lazy("Heart and vessels"))
NERVES = Group("NERVES", gettext_lazy("Nervous system"))
AIRWAYS = Group("AIRWAYS", gettext_lazy("Airways"))


def _present(code: str, label, weight: int, group: Group, help="") -> Item:
    return Item(code, label, BOOLEAN, None, None, weight=weight, help=help, group=group)


ITEMS = (
    _present("FEVER", gettext_lazy("Fever > 38 °C"), 2, GENERAL),
    _present("ARTHR", gettext_lazy("Arthritis"), 1, JOINTS),
    _present("MANUBR", gettext_lazy("Manubriosternal chondritis"), 3, JOINTS),
    _present("STERNCL", gettext_lazy("Sternoclavicular chondritis"), 4, JOINTS),
    _present("COSTOCH", gettext_lazy("Costochondritis"), 4, JOINTS),
    _present("AURIC", gettext_lazy("Auricular chondritis (uni- or bilateral)"), 9, EARNOSE),
    _present("NASAL", gettext_lazy("Nasal chondritis"), 9, EARNOSE),
    _present("EPISCL", gettext_lazy("Episcleritis"), 5, EYES),
    _present("SCLER", gettext_lazy("Scleritis"), 9, EYES),
    _present("UVEITIS", gettext_lazy("Uveitis"), 9, EYES),
    _present("CORNULC", gettext_lazy("Corneal ulcer"), 11, EYES),
    _present("RETVASC", gettext_lazy("Retinal vasculitis"), 14, EYES),
    _present("CRP", gettext_lazy("CRP > 20 mg/L"), 3, GENERAL),
    _present("VESTIB", gettext_lazy("Vestibular dysfunction"), 12, EARNOSE),
    _present("PURPURA", gettext_lazy("Purpura"), 3, SKIN),
    _present("HAEMAT", gettext_lazy("Haematuria"), 4, KIDNEYS),
    _present("PROTEIN", gettext_lazy("Proteinuria"), 6, KIDNEYS),
    _present("RENFAIL", gettext_lazy("Renal failure"), 17, KIDNEYS),
    _present("PERICARD", gettext_lazy("Pericarditis"), 9, HEART),
    _present("VESSEL", gettext_lazy("Large or medium vessel involvement"), 16, HEART),
    _present("MYOCARD", gettext_lazy("Myocarditis"), 17, HEART),
    _present("VALVE", gettext_lazy("Acute aortic or mitral insufficiency"), 18, HEART),
    _present("NEUROP", gettext_lazy("Motor or sensorimotor neuropathy"), 12, NERVES),
    _present("ENCEPH", gettext_lazy("Encephalitis"), 22, NERVES),
    _present(
        RESPIRATORY,
        gettext_lazy("Respiratory chondritis without acute respiratory failure"),
        14,
        AIRWAYS,
        help=gettext_lazy("Choose this or the item with respiratory failure, never both."),
    ),
    _present(
        RESPIRATORY_FAILURE,
        gettext_lazy("Respiratory chondritis with acute respiratory failure"),
        24,
        AIRWAYS,
        help=gettext_lazy("Choose this or the item without respiratory failure, never both."),
    ),
    _present("DEAFNESS", gettext_lazy("Sensorineural deafness"), 8, EARNOSE),
)


class _RPDAI(Instrument):
    def extra_errors(self, answers):
        if answers.get(RESPIRATORY) and answers.get(RESPIRATORY_FAILURE):
            message = _(
                "The two respiratory chondritis items describe one organ at two severities: "
                "choose one (with acute respiratory failure if there was any)."
            )
            return {ALL: [message], RESPIRATORY_FAILURE: [message]}
        return {}

    def details(self, answers, total):
        return {
            "complete_response": total == 0,
            "items_present": [item.code for item in self.items if answers.get(item.code)],
        }


RPDAI = _RPDAI(
    code="RPDAI",
    name=gettext_lazy("Relapsing Polychondritis Disease Activity Index (RPDAI)"),
    recall_period=gettext_lazy("the last 28 days"),
    items=ITEMS,
)
