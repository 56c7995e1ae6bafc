from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety: adverse events"

    def ready(self) -> None:
        from trials.forms.registry import registry

        from .form_definitions import register

        register(registry)
