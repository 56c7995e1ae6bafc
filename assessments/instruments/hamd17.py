"""HAM-D 17: the 17-item Hamilton Rating Scale for Depression, clinician-rated.

Source: Hamilton M, J Neurol Neurosurg Psychiatry 1960;23:56-62, and the 17-item version
with its 0-4 and 0-2 item ranges (Hamilton M, Br J Soc Clin Psychol 1967;6:278-96;
docs/INSTRUMENTS.md, "HAM-D 17"). Recall period: the past week. Items 1-3, 7-11 and 15
score 0-4; items 4-6, 12-14, 16 and 17 score 0-2, so the total runs from 0 to 52. Severity
bands (not Hamilton's own; docs/INSTRUMENTS.md names other bands in use): < 8 none,
8-13 mild, 14-18 moderate, 19-22 severe, >= 23 very severe.

Item 16 (loss of weight) is rated either by history (16A) or from weekly measurement (16B),
never both: exactly one of the two must be answered. Both are kept on the 0-2 range
(the printed scale's "3 = not assessed" on 16B is not a severity, so it is not offered;
not assessed means answering 16A instead).

Item 3 (suicide) rated 2 or more (wishes to be dead, suicidal ideas or gestures, attempts)
raises the same "self_harm" alert as PHQ-9 item 9: it must reach the investigator urgently
whatever the total is.

Chinese text: the item names of the Chinese HAM-D (汉密尔顿抑郁量表) in clinical use, as in
张明园主编《精神科评定量表手册》 (docs/TRANSLATION.md).
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import ALL, INTEGER, SELF_HARM_ALERT, Band, Instrument, Item, ItemAlert

SUICIDE_ITEM = "H3"
WEIGHT_BY_HISTORY = "H16A"
WEIGHT_MEASURED = "H16B"


def _scale(code: str, label, top: int, required: bool = True) -> Item:
    return Item(code, label, INTEGER, 0, top, required=required)


ITEMS = (
    _scale("H1", gettext_lazy("1. Depressed mood"), 4),
    _scale("H2", gettext_lazy("2. Feelings of guilt"), 4),
    _scale(SUICIDE_ITEM, gettext_lazy("3. Suicide"), 4),
    _scale("H4", gettext_lazy("4. Insomnia: early in the night"), 2),
    _scale("H5", gettext_lazy("5. Insomnia: middle of the night"), 2),
    _scale("H6", gettext_lazy("6. Insomnia: early hours of the morning"), 2),
    _scale("H7", gettext_lazy("7. Work and activities"), 4),
    _scale("H8", gettext_lazy("8. Retardation"), 4),
    _scale("H9", gettext_lazy("9. Agitation"), 4),
    _scale("H10", gettext_lazy("10. Anxiety, psychic"), 4),
    _scale("H11", gettext_lazy("11. Anxiety, somatic"), 4),
    _scale("H12", gettext_lazy("12. Somatic symptoms, gastro-intestinal"), 2),
    _scale("H13", gettext_lazy("13. General somatic symptoms"), 2),
    _scale("H14", gettext_lazy("14. Genital symptoms"), 2),
    _scale("H15", gettext_lazy("15. Hypochondriasis"), 4),
    _scale(WEIGHT_BY_HISTORY, gettext_lazy("16A. Loss of weight, by history"), 2, False),
    _scale(WEIGHT_MEASURED, gettext_lazy("16B. Loss of weight, measured weekly"), 2, False),
    _scale("H17", gettext_lazy("17. Insight"), 2),
)

BANDS = (
    Band(0, 7, "none"),
    Band(8, 13, "mild"),
    Band(14, 18, "moderate"),
    Band(19, 22, "severe"),
    Band(23, 52, "very severe"),
)


class _HAMD17(Instrument):
    @property
    def theoretical_max(self) -> int:
        # 16A and 16B are alternatives: only one of their two maxima can count.
        measured = next(item for item in self.items if item.code == WEIGHT_MEASURED)
        return super().theoretical_max - measured.max

    def extra_errors(self, answers):
        by_history = WEIGHT_BY_HISTORY in answers
        measured = WEIGHT_MEASURED in answers
        if by_history and measured:
            message = _("Item 16 is rated once: answer 16A (by history) or 16B (measured).")
        elif not by_history and not measured:
            message = _("Answer 16A (by history) or 16B (measured).")
        else:
            return {}
        return {ALL: [message], WEIGHT_BY_HISTORY: [message], WEIGHT_MEASURED: [message]}

    def details(self, answers, total):
        scored = WEIGHT_BY_HISTORY if WEIGHT_BY_HISTORY in answers else WEIGHT_MEASURED
        return {"weight_loss_item": scored}


HAMD17 = _HAMD17(
    code="HAMD17",
    name=gettext_lazy("Hamilton Rating Scale for Depression, 17 items (HAM-D 17)"),
    recall_period=gettext_lazy("the past week"),
    items=ITEMS,
    bands=BANDS,
    item_alerts=(
        ItemAlert(
            SELF_HARM_ALERT,
            SUICIDE_ITEM,
            2,
            gettext_lazy("suicidal ideas or acts (HAM-D 17 item 3, suicide, rated 2 or more)"),
        ),
    ),
)
