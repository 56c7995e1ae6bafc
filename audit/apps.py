from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from .roles import install_on_migrate

        # pghistory reinstalls its unguarded context function after every migrate, from
        # its own post_migrate receiver; this one is connected later, so it runs after.
        # (audit has no models, so no post_migrate is sent for it.)
        post_migrate.connect(install_on_migrate, sender=apps.get_app_config("pghistory"))
