from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments and safety"

    def ready(self):
        from patients.panels import register_participant_panel

        register_participant_panel("assessments/_participant_panel.html")
