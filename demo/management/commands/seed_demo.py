"""Create the demo studies, their sites and a user per role. Safe to run any number of times.

    manage.py seed_demo

Existing users keep their passwords; the demo passwords printed are those set at creation.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from audit.tracking import acting
from demo.participants import ensure_demo_participants
from demo.people import DEMO_PASSWORD, DEMO_USERS, ensure_demo_studies
from patients.models import RandomisationList
from patients.randomisation import generate_lists

STUDY_ADMIN_GROUP = "Study admins"


def ensure_randomisation_list(study) -> None:
    """A randomised demo study needs its list before the first enrolment."""
    version = study.active_version()
    if version is None or version.arms.count() < 2:
        return
    if not RandomisationList.objects.filter(study=study).exists():
        generate_lists(version=version, seed=f"demo-{study.code}")


class Command(BaseCommand):
    help = "Create the demo studies, sites and one user per role (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        with acting(None, "seed_demo"):
            studies = ensure_demo_studies()
            for study in studies.values():
                ensure_randomisation_list(study)
            group, _ = Group.objects.get_or_create(name=STUDY_ADMIN_GROUP)
            group.permissions.set(
                # Not django_celery_beat: its schedules are the deployment's (superusers').
                Permission.objects.filter(content_type__app_label="trials")
            )
            created_users = []
            for spec in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=spec.username,
                    defaults={
                        "first_name": spec.display_name,
                        "email": f"{spec.username}@example.org",
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                    created_users.append(user.username)
                if spec.role == "study_admin" and not user.is_staff:
                    user.is_staff = True
                    user.save(update_fields=["is_staff"])
                    user.groups.add(group)
                for code in spec.studies:
                    spec.ensure_membership(user, studies[code])
            created = ensure_demo_participants(
                studies=studies,
                coordinator=User.objects.get(username="coordinator"),
                investigator=User.objects.get(username="investigator"),
                password=DEMO_PASSWORD,
            )
            if created:
                self.stdout.write(f"Created {created} demo participants.")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Demo logins (password for each: {DEMO_PASSWORD}):")
        for spec in DEMO_USERS:
            self.stdout.write(f"  {spec.username:<14} {spec.description}")
        if not created_users:
            self.stdout.write("Nothing new was created (users already existed).")
