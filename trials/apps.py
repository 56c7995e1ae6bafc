from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "trials"
    verbose_name = "Studies and protocols"

    def ready(self):
        from . import lockout_notice  # noqa: F401  (connects the notice to axes' signal)

        # The home page's own section; the apps above register theirs in their ready().
        from .worklist import register

        register()
