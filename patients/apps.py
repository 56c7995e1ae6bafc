from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Participants"

    def ready(self) -> None:
        from trials.forms.registry import registry

        from . import worklist
        from .form_definitions import register

        register(registry)
        worklist.register()
