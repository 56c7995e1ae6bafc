"""The participant page's panels, contributed by the apps above patients.

The participant page belongs to patients, yet it shows what higher layers record: the visit
capture (assessments) and the adverse events (safety). Patients may not import them, so each
of those apps registers its panel's template here from its `AppConfig.ready`, and the page
includes whatever is registered. Registration follows INSTALLED_APPS, which lists the apps
bottom to top, so the panels appear in layer order. A panel template builds its own context
with its app's template tags from `participant`, `request` and `user`.
"""

_participant_panels: list[str] = []


def register_participant_panel(template_name: str) -> None:
    if template_name not in _participant_panels:
        _participant_panels.append(template_name)


def participant_panels() -> tuple[str, ...]:
    return tuple(_participant_panels)
