"""SLEDAI-2K: the Systemic Lupus Erythematosus Disease Activity Index 2000.

Source: Gladman DD, Ibañez D, Urowitz MB, J Rheumatol 2002;29:288-91, with its published
weights (docs/INSTRUMENTS.md, "SLEDAI-2K"). 24 descriptors, each present at the visit or in
the preceding 10 days and attributable to lupus, weighted 8 (neuropsychiatric and vascular),
4 (musculoskeletal and renal), 2 (mucocutaneous, serosal, immunological) or 1
(constitutional, haematological); the score is the sum of the weights present, 0-105.
Unlike the original SLEDAI, rash, alopecia, mucosal ulcers and proteinuria count when
persistent, not only when new.

Item codes are at most 8 characters so they can serve as SDTM QSTESTCD values.

Chinese text: the descriptor names used in Chinese rheumatology (the 2020 Chinese SLE
guideline scores with SLEDAI-2K); the definitions are the project's translation
(docs/TRANSLATION.md).
"""

from django.utils.translation import gettext_lazy

from .base import BOOLEAN, Group, Instrument, Item

# The form shows the descriptors under their organ systems, as the published form does.
CNS = Group("CNS", gettext_lazy("Central nervous system"))
VASCULAR = Group("VASCULAR", gettext_lazy("Vascular"))
MUSCULO = Group("MUSCULO", gettext_lazy("Musculoskeletal"))
RENAL = Group("RENAL", gettext_lazy("Renal"))
MUCOCUT = Group("MUCOCUT", gettext_lazy("Mucocutaneous"))
SEROSAL = Group("SEROSAL", gettext_lazy("Serosal"))
IMMUNO = Group("IMMUNO", gettext_lazy("Immunological"))
CONSTIT = Group("CONSTIT", gettext_lazy("Constitutional"))
HAEM = Group("HAEM", gettext_lazy("Haematological"))


def _present(code: str, label, weight: int, help) -> Item:
    return Item(code, label, BOOLEAN, None, None, weight=weight, help=help, group=_GROUP_OF[code])


_GROUP_OF = {
    "SEIZURE": CNS,
    "PSYCHOS": CNS,
    "OBS": CNS,
    "VISUAL": CNS,
    "CRANNERV": CNS,
    "HEADACHE": CNS,
    "CVA": CNS,
    "VASCUL": VASCULAR,
    "ARTHR": MUSCULO,
    "MYOSITIS": MUSCULO,
    "CASTS": RENAL,
    "HAEMAT": RENAL,
    "PROTEIN": RENAL,
    "PYURIA": RENAL,
    "RASH": MUCOCUT,
    "ALOPECIA": MUCOCUT,
    "MUCULC": MUCOCUT,
    "PLEURISY": SEROSAL,
    "PERICARD": SEROSAL,
    "LOWCOMPL": IMMUNO,
    "DNABIND": IMMUNO,
    "FEVER": CONSTIT,
    "THROMBO": HAEM,
    "LEUKOPEN": HAEM,
}

ITEMS = (
    _present(
        "SEIZURE",
        gettext_lazy("Seizure"),
        8,
        gettext_lazy("Recent onset; metabolic, infectious or drug causes excluded."),
    ),
    _present(
        "PSYCHOS",
        gettext_lazy("Psychosis"),
        8,
        gettext_lazy("Severe disturbance in the perception of reality; uraemia, drugs excluded."),
    ),
    _present(
        "OBS",
        gettext_lazy("Organic brain syndrome"),
        8,
        gettext_lazy(
            "Altered mental function, rapid onset and fluctuating; other causes excluded."
        ),
    ),
    _present(
        "VISUAL",
        gettext_lazy("Visual disturbance"),
        8,
        gettext_lazy("Retinal changes of lupus, or optic neuritis; other causes excluded."),
    ),
    _present(
        "CRANNERV",
        gettext_lazy("Cranial nerve disorder"),
        8,
        gettext_lazy("New onset of sensory or motor neuropathy involving cranial nerves."),
    ),
    _present(
        "HEADACHE",
        gettext_lazy("Lupus headache"),
        8,
        gettext_lazy("Severe, persistent; not responding to narcotic analgesia."),
    ),
    _present(
        "CVA",
        gettext_lazy("Cerebrovascular accident"),
        8,
        gettext_lazy("New onset; arteriosclerosis excluded."),
    ),
    _present(
        "VASCUL",
        gettext_lazy("Vasculitis"),
        8,
        gettext_lazy(
            "Ulceration, gangrene, tender finger nodules, periungual infarction, splinter "
            "haemorrhages, or biopsy or angiogram proof."
        ),
    ),
    _present(
        "ARTHR",
        gettext_lazy("Arthritis"),
        4,
        gettext_lazy("Two or more joints with pain and signs of inflammation."),
    ),
    _present(
        "MYOSITIS",
        gettext_lazy("Myositis"),
        4,
        gettext_lazy("Proximal aching or weakness with raised CK or aldolase, EMG or biopsy."),
    ),
    _present(
        "CASTS",
        gettext_lazy("Urinary casts"),
        4,
        gettext_lazy("Haem-granular or red blood cell casts."),
    ),
    _present(
        "HAEMAT",
        gettext_lazy("Haematuria"),
        4,
        gettext_lazy(
            "> 5 red cells per high-power field; stone, infection, other causes excluded."
        ),
    ),
    _present(
        "PROTEIN",
        gettext_lazy("Proteinuria"),
        4,
        gettext_lazy("> 0.5 g per 24 hours."),
    ),
    _present(
        "PYURIA",
        gettext_lazy("Pyuria"),
        4,
        gettext_lazy("> 5 white cells per high-power field; infection excluded."),
    ),
    _present("RASH", gettext_lazy("Rash"), 2, gettext_lazy("Inflammatory-type rash.")),
    _present(
        "ALOPECIA",
        gettext_lazy("Alopecia"),
        2,
        gettext_lazy("Abnormal, patchy or diffuse loss of hair."),
    ),
    _present(
        "MUCULC",
        gettext_lazy("Mucosal ulcers"),
        2,
        gettext_lazy("Oral or nasal ulceration."),
    ),
    _present(
        "PLEURISY",
        gettext_lazy("Pleurisy"),
        2,
        gettext_lazy("Pleuritic chest pain with pleural rub, effusion or pleural thickening."),
    ),
    _present(
        "PERICARD",
        gettext_lazy("Pericarditis"),
        2,
        gettext_lazy("Pericardial pain with rub or effusion, or ECG or echo confirmation."),
    ),
    _present(
        "LOWCOMPL",
        gettext_lazy("Low complement"),
        2,
        gettext_lazy("CH50, C3 or C4 below the laboratory's normal range."),
    ),
    _present(
        "DNABIND",
        gettext_lazy("Increased DNA binding"),
        2,
        gettext_lazy("Anti-dsDNA above the laboratory's normal range."),
    ),
    _present("FEVER", gettext_lazy("Fever"), 1, gettext_lazy("> 38 °C; infection excluded.")),
    _present(
        "THROMBO",
        gettext_lazy("Thrombocytopenia"),
        1,
        gettext_lazy("< 100 × 10⁹ platelets/L; drug causes excluded."),
    ),
    _present(
        "LEUKOPEN",
        gettext_lazy("Leukopenia"),
        1,
        gettext_lazy("< 3 × 10⁹ white cells/L; drug causes excluded."),
    ),
)

SLEDAI2K = Instrument(
    code="SLEDAI2K",
    name=gettext_lazy("Systemic Lupus Erythematosus Disease Activity Index 2000 (SLEDAI-2K)"),
    recall_period=gettext_lazy("the visit and the preceding 10 days"),
    items=ITEMS,
)
