"""Install the periodic tasks in django-celery-beat's tables. Safe to run any number of times.

    manage.py install_schedules [--reset]

Entries are created when missing and otherwise left alone, so an interval tuned in the
admin survives a redeploy; --reset puts the defaults back.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from notifications import conf

SCHEDULES = (
    # (name, task, every N minutes, description)
    (
        "Reminders: sweep",
        "notifications.sweep",
        conf.sweep_minutes,
        "Computes the reminders due from each protocol's reminder rules and sends them.",
    ),
    (
        "Reminders: requeue pending",
        "notifications.requeue_pending",
        lambda: 1,
        "Publishes reminders left pending by a broker outage or a worker that died.",
    ),
)


class Command(BaseCommand):
    help = "Install the periodic reminder tasks for Celery beat (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Put the default intervals back.")

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        for name, task, minutes, description in SCHEDULES:
            every = {"every": minutes(), "period": IntervalSchedule.MINUTES}
            # The admin may have made duplicates of an interval: any of them will do.
            interval = IntervalSchedule.objects.filter(**every).order_by("pk").first()
            interval = interval or IntervalSchedule.objects.create(**every)
            defaults = {"task": task, "interval": interval, "description": description}
            entry, created = PeriodicTask.objects.get_or_create(name=name, defaults=defaults)
            if created:
                self.stdout.write(f"Installed “{name}”: every {interval.every} minute(s).")
            elif reset:
                for field, value in defaults.items():
                    setattr(entry, field, value)
                entry.enabled = True
                entry.save()
                self.stdout.write(f"Reset “{name}”: every {interval.every} minute(s).")
            else:
                self.stdout.write(f"“{name}” already installed; left as it is.")
