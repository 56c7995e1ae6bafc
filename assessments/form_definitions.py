"""The assessments app's built-in forms, as the form registry describes them.

The scored instruments are derived from their Python definitions (items, labels, ranges,
choices, whether an item is required), so the registry cannot drift from the scoring it
describes; the Treg panel, the steroid dose and dose administration from the fields their
models store. Scores and derived values stay computed in Python: they are not items here.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from trials.forms.codes import STEROID_DOSE, TREG_PANEL
from trials.forms.expressions import ItemType
from trials.forms.registry import FormRegistry, items_from_model, simple_form
from trials.forms.spec import CheckSpec, ItemSpec, Text

from . import instruments
from .instruments.base import BOOLEAN, CHOICE, Instrument, Item
from .models import DoseAdministration, SteroidDose, TregPanel

#: Dose administration is logged against the dosing calendar, not scheduled at a visit.
DOSE_ADMINISTRATION = "DOSE"

_PERCENT = (Decimal(0), Decimal(100))


def instrument_item(item: Item) -> ItemSpec:
    """A scored item as a form item: present/absent → yes/no, a scale → an integer in range,
    labelled choices → their values as codes."""
    common = {
        "code": item.code,
        "label": Text.of(item.label),
        "help": Text.of(item.help) if item.help else None,
        "required": item.required,
    }
    if item.type == BOOLEAN:
        return ItemSpec(type=ItemType.YESNO, **common)
    if item.type == CHOICE:
        codes = tuple((str(value), Text.of(label)) for value, label in item.choices)
        return ItemSpec(type=ItemType.CHOICE, codes=codes, **common)
    return ItemSpec(type=ItemType.INTEGER, range=(Decimal(item.min), Decimal(item.max)), **common)


def instrument_form(instrument: Instrument):
    return simple_form(
        instrument.code, instrument.name, (instrument_item(i) for i in instrument.items)
    )


def register(registry: FormRegistry) -> None:
    for instrument in instruments.all_instruments():
        registry.register(instrument_form(instrument), owner="assessments")
    registry.register(
        simple_form(
            TREG_PANEL,
            _("Treg panel (flow cytometry)"),
            items_from_model(
                TregPanel,
                ("sample_date", *TregPanel.INPUTS),
                cd4_pct_of_lymphocytes={"range": _PERCENT, "unit": "%"},
                treg_pct_of_cd4={"range": _PERCENT, "unit": "%"},
                tcon_pct_of_cd4={"range": _PERCENT, "unit": "%"},
                lymphocytes_per_ul={"unit": "/µL"},
                cd4_per_ul={"unit": "/µL"},
            ),
            checks=(
                CheckSpec(
                    "TREG-R1",
                    "not is_blank(cd4_per_ul) or not is_blank(cd4_pct_of_lymphocytes)",
                    # xgettext:no-python-format (a literal percent sign, never formatted)
                    Text.of(_("Enter CD4+ cells per µL or CD4+ % of lymphocytes.")),
                ),
                CheckSpec(
                    "TREG-R2",
                    "treg_pct_of_cd4 + tcon_pct_of_cd4 <= 100",
                    # xgettext:no-python-format (a literal percent sign, never formatted)
                    Text.of(_("Treg % and Tcon % of CD4+ cannot add up to more than 100.")),
                ),
            ),
        ),
        owner="assessments",
    )
    registry.register(
        simple_form(
            STEROID_DOSE,
            _("Steroid dose"),
            items_from_model(
                SteroidDose,
                SteroidDose.INPUTS,
                mg_per_day={"unit": "mg"},
                weight_kg={"unit": "kg"},
            ),
        ),
        owner="assessments",
    )
    # The time given is a wall-clock time, which the registry's item types do not describe
    # (yet): it is left out of the description, not out of the record.
    dose_inputs = [name for name in DoseAdministration.INPUTS if name != "administered_time"]
    given = "given == 'Y'"
    registry.register(
        simple_form(
            DOSE_ADMINISTRATION,
            _("Dose administration"),
            items_from_model(
                DoseAdministration,
                dose_inputs,
                administered_on={"show_if": given},
                actual_dose={"show_if": given},
                lot={"show_if": given},
                injection_site={"show_if": given},
                local_reaction={"show_if": given},
                reason_not_given={"show_if": "given == 'N'"},
            ),
        ),
        owner="assessments",
    )
