"""RPDAI: the Relapsing Polychondritis Disease Activity Index.

Source: Arnaud L et al., "The Relapsing Polychondritis Disease Activity Index: development of
a disease activity score for relapsing polychondritis", Autoimmun Rev 2012;12:204-9; weights
as tabulated in Rednic S et al., RMD Open 2018 (DESIGN.md, "Instruments"). Each item is
present or absent over the last 28 days, counted only when attributable to relapsing
polychondritis; the score is the sum of the weights of the items present. The weights sum
to 265, but the two respiratory chondritis items grade one organ at two severities and
exclude each other, so the highest reachable score is 265 - 14 = 251. Complete response,
the seed study's outcome, is a score of 0.

Item codes are at most 8 characters so they can serve as SDTM QSTESTCD values.

Chinese text: no validated Chinese version exists; the labels are the project's own
translation (docs/TRANSLATION.md).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import ALL, BOOLEAN, Instrument, Item

RESPIRATORY = "RESPCH"
RESPIRATORY_FAILURE = "RESPCHF"


def _present(code: str, label, weight: int, help="") -> Item:
    return Item(code, label, BOOLEAN, None, None, weight=weight, help=help)


ITEMS = (
    _present("FEVER", gettext_lazy("Fever > 38 °C"), 2),
    _present("ARTHR", gettext_lazy("Arthritis"), 1),
    _present("MANUBR", gettext_lazy("Manubriosternal chondritis"), 3),
    _present("STERNCL", gettext_lazy("Sternoclavicular chondritis"), 4),
    _present("COSTOCH", gettext_lazy("Costochondritis"), 4),
    _present("AURIC", gettext_lazy("Auricular chondritis (uni- or bilateral)"), 9),
    _present("NASAL", gettext_lazy("Nasal chondritis"), 9),
    _present("EPISCL", gettext_lazy("Episcleritis"), 5),
    _present("SCLER", gettext_lazy("Scleritis"), 9),
    _present("UVEITIS", gettext_lazy("Uveitis"), 9),
    _present("CORNULC", gettext_lazy("Corneal ulcer"), 11),
    _present("RETVASC", gettext_lazy("Retinal vasculitis"), 14),
    _present("CRP", gettext_lazy("CRP > 20 mg/L"), 3),
    _present("VESTIB", gettext_lazy("Vestibular dysfunction"), 12),
    _present("PURPURA", gettext_lazy("Purpura"), 3),
    _present("HAEMAT", gettext_lazy("Haematuria"), 4),
    _present("PROTEIN", gettext_lazy("Proteinuria"), 6),
    _present("RENFAIL", gettext_lazy("Renal failure"), 17),
    _present("PERICARD", gettext_lazy("Pericarditis"), 9),
    _present("VESSEL", gettext_lazy("Large or medium vessel involvement"), 16),
    _present("MYOCARD", gettext_lazy("Myocarditis"), 17),
    _present("VALVE", gettext_lazy("Acute aortic or mitral insufficiency"), 18),
    _present("NEUROP", gettext_lazy("Motor or sensorimotor neuropathy"), 12),
    _present("ENCEPH", gettext_lazy("Encephalitis"), 22),
    _present(
        RESPIRATORY,
        gettext_lazy("Respiratory chondritis without acute respiratory failure"),
        14,
        help=gettext_lazy("Choose this or the item with respiratory failure, never both."),
    ),
    _present(
        RESPIRATORY_FAILURE,
        gettext_lazy("Respiratory chondritis with acute respiratory failure"),
        24,
        help=gettext_lazy("Choose this or the item without respiratory failure, never both."),
    ),
    _present("DEAFNESS", gettext_lazy("Sensorineural deafness"), 8),
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
