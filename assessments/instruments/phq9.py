"""PHQ-9: the Patient Health Questionnaire depression module, self-reported.

Source: Kroenke K, Spitzer RL, Williams JBW, J Gen Intern Med 2001;16:606-13 (the
questionnaire is free to use, Pfizer). Recall period: the last 2 weeks. Nine items score
0-3 (not at all, several days, more than half the days, nearly every day), total 0-27,
banded 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe, 20-27 severe.

Any answer above 0 on item 9 (thoughts of being better off dead or of self-harm) raises the
"self_harm" alert, which must reach the investigator urgently whatever the total is. The
10th question (how difficult the problems made daily life) is optional and recorded, never
scored (docs/INSTRUMENTS.md, "PHQ-9").

Chinese text: the Simplified Chinese PHQ-9 (患者健康问卷) distributed with the questionnaire,
validated in China by Wang W et al., Gen Hosp Psychiatry 2014;36:539-44 (docs/TRANSLATION.md).
"""

from django.utils.translation import gettext_lazy

from .base import INTEGER, SELF_HARM_ALERT, Band, Instrument, Item, ItemAlert

SELF_HARM_ITEM = "P9"
DIFFICULTY_ITEM = "P10"

FREQUENCY = gettext_lazy(
    "0 not at all, 1 several days, 2 more than half the days, 3 nearly every day"
)


def _frequency(code: str, label) -> Item:
    return Item(code, label, INTEGER, 0, 3, help=FREQUENCY)


ITEMS = (
    _frequency("P1", gettext_lazy("1. Little interest or pleasure in doing things")),
    _frequency("P2", gettext_lazy("2. Feeling down, depressed, or hopeless")),
    _frequency("P3", gettext_lazy("3. Trouble falling or staying asleep, or sleeping too much")),
    _frequency("P4", gettext_lazy("4. Feeling tired or having little energy")),
    _frequency("P5", gettext_lazy("5. Poor appetite or overeating")),
    _frequency(
        "P6",
        gettext_lazy(
            "6. Feeling bad about yourself, or that you are a failure or have let yourself "
            "or your family down"
        ),
    ),
    _frequency(
        "P7",
        gettext_lazy(
            "7. Trouble concentrating on things, such as reading the newspaper or watching "
            "television"
        ),
    ),
    _frequency(
        "P8",
        gettext_lazy(
            "8. Moving or speaking so slowly that other people could have noticed, or the "
            "opposite: being so fidgety or restless that you have been moving around a lot "
            "more than usual"
        ),
    ),
    _frequency(
        SELF_HARM_ITEM,
        gettext_lazy(
            "9. Thoughts that you would be better off dead, or of hurting yourself in some way"
        ),
    ),
    Item(
        DIFFICULTY_ITEM,
        gettext_lazy(
            "10. If you checked off any problems, how difficult have these problems made it "
            "for you to do your work, take care of things at home, or get along with other "
            "people?"
        ),
        INTEGER,
        0,
        3,
        help=gettext_lazy(
            "0 not difficult at all, 1 somewhat difficult, 2 very difficult, "
            "3 extremely difficult (recorded, not scored)"
        ),
        required=False,
        scored=False,
    ),
)

BANDS = (
    Band(0, 4, "minimal"),
    Band(5, 9, "mild"),
    Band(10, 14, "moderate"),
    Band(15, 19, "moderately severe"),
    Band(20, 27, "severe"),
)


class _PHQ9(Instrument):
    def details(self, answers, total):
        return {"difficulty": answers.get(DIFFICULTY_ITEM)}


PHQ9 = _PHQ9(
    code="PHQ9",
    name=gettext_lazy("Patient Health Questionnaire, 9 items (PHQ-9)"),
    recall_period=gettext_lazy("the last 2 weeks"),
    items=ITEMS,
    bands=BANDS,
    item_alerts=(
        ItemAlert(
            SELF_HARM_ALERT,
            SELF_HARM_ITEM,
            1,
            gettext_lazy(
                "thoughts of self-harm or of being better off dead (PHQ-9 item 9 above 0)"
            ),
        ),
    ),
)
