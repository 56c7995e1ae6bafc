from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety: adverse events"

    def ready(self):
        from patients.panels import register_participant_panel

        register_participant_panel("safety/_participant_panel.html")
