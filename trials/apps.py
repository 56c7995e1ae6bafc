from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "trials"
    verbose_name = "Studies and protocols"

    def ready(self):
        from . import lockout_notice  # noqa: F401  (connects the notice to axes' signal)
