"""The patients app's built-in form: eligibility, as the form registry describes it.

Criteria are per protocol (the protocol file's `eligibility:` list), so the registry gives
the generic shape: one row per criterion, answered yes/no or with a number.
"""

from django.utils.translation import gettext_lazy as _

from trials.forms.codes import ELIGIBILITY
from trials.forms.expressions import ItemType
from trials.forms.registry import FormRegistry
from trials.forms.spec import FormSpec, GroupSpec, ItemSpec, Text


def register(registry: FormRegistry) -> None:
    criteria = GroupSpec(
        code="criteria",
        name=Text.of(_("Criteria of the protocol version")),
        repeating=True,
        key=("criterion",),
        items=(
            ItemSpec("criterion", Text.of(_("Criterion id")), ItemType.TEXT, required=True),
            ItemSpec(
                "answer",
                Text.of(_("Met (inclusion) / present (exclusion)")),
                ItemType.YESNO,
                help=Text.of(_("For a criterion answered yes or no.")),
            ),
            ItemSpec(
                "value",
                Text.of(_("Value")),
                ItemType.DECIMAL,
                help=Text.of(_("For a numeric criterion: within its bounds to be met.")),
            ),
        ),
    )
    registry.register(
        FormSpec(code=ELIGIBILITY, name=Text.of(_("Eligibility")), groups=(criteria,)),
        owner="patients",
    )
