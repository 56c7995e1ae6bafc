from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments and safety"

    def ready(self) -> None:
        from patients.panels import register_participant_panel
        from trials.forms.registry import registry

        from . import worklist
        from .form_definitions import register

        register_participant_panel("assessments/_participant_panel.html")
        register(registry)
        worklist.register()
