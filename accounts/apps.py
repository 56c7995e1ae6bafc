from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "User preferences"

    def ready(self):
        from . import language  # noqa: F401  (connects the log-in receiver)
