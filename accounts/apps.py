from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "User preferences"

    def ready(self):
        from . import lockout  # noqa: F401  (connects the lockout notice to axes' signal)
