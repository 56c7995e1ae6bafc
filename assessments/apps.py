from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments and safety"

    def ready(self) -> None:
        from trials.forms.registry import registry

        from .form_definitions import register

        register(registry)
