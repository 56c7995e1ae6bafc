"""Give the app's database role (DATABASE_URL's user) its rights; run as the owner.

    manage.py migrate --database owner
    manage.py setup_database_roles

The owner connection is DATABASE_OWNER_URL (the `owner` database alias). The role is created
if it does not exist, with DATABASE_URL's password, and may then only append to the audit
trail (see audit.roles). Run it after every migrate: it grants table by table.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from audit.roles import install_context_guard, setup_app_role


class Command(BaseCommand):
    help = "Create the app's database role and grant it what it needs (run as the owner)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="owner", help="The owner's database alias.")

    def handle(self, *args, database, **options):
        owner = connections[database]
        app = connections["default"].settings_dict
        role = app["USER"]
        if not role or role == owner.settings_dict["USER"]:
            raise CommandError(
                "DATABASE_URL connects as the owner: give the app a role of its own "
                "(DATABASE_URL=postgres://<app role>@...) and the owner's URL in "
                "DATABASE_OWNER_URL."
            )
        with transaction.atomic(using=database):
            install_context_guard(owner)
            try:
                setup_app_role(owner, role, app["PASSWORD"] or None)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Database role {role!r} may read and write, and only append to the audit trail."
        )
