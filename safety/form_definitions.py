"""The safety app's built-in form: the adverse event, derived from the fields a user enters
(`terms.CLINICAL_FIELDS`) so the registry describes exactly what the model stores."""

from django.utils.translation import gettext_lazy as _

from trials.forms.codes import ADVERSE_EVENTS
from trials.forms.registry import FormRegistry, items_from_model, simple_form

from .models import AdverseEvent
from .terms import CLINICAL_FIELDS, SERIOUSNESS_FIELDS


def register(registry: FormRegistry) -> None:
    serious = {name: {"show_if": "serious == 'Y'"} for name in SERIOUSNESS_FIELDS.values()}
    # The visit is a link to a scheduled visit, not an answer.
    fields = [name for name in CLINICAL_FIELDS if name != "visit"]
    registry.register(
        simple_form(
            ADVERSE_EVENTS,
            _("Adverse event"),
            items_from_model(
                AdverseEvent,
                fields,
                end_date={"show_if": "ongoing == 'N'"},
                death_date={"show_if": "results_in_death == 'Y'"},
                **serious,
            ),
        ),
        owner="safety",
    )
