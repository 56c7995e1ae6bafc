from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety: adverse events"

    def ready(self) -> None:
        from patients.panels import register_participant_panel
        from trials.forms.registry import registry

        from . import worklist
        from .form_definitions import register

        register_participant_panel("safety/_participant_panel.html")
        register(registry)
        worklist.register()
