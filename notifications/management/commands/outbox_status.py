"""What the reminder outbox holds, for a monitoring system; exits 2 when it needs a person.

    manage.py outbox_status [--stale-minutes 15] [--failed-hours 24]

Prints the pending and failed notifications and digests. Exits 2 (CRITICAL, in the
monitoring plugins' convention) when a safety reminder (sent at once, not in a digest) has
waited longer than --stale-minutes past the moment it was due to be tried, or when a
notification or a digest failed for good within the last --failed-hours: someone must look
at the mail server or at the recipient's address. Exits 0 otherwise. A pending routine
reminder is not late: it waits for its recipient's daily digest.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.models import Digest, Notification, Status

CRITICAL = 2


class Command(BaseCommand):
    help = "Summarise the reminder outbox; exit 2 if a safety reminder is late or sends failed."

    def add_arguments(self, parser):
        parser.add_argument("--stale-minutes", type=int, default=15)
        parser.add_argument("--failed-hours", type=int, default=24)

    def handle(self, *args, stale_minutes, failed_hours, **options):
        now = timezone.now()
        stale = now - timedelta(minutes=stale_minutes)
        recent = now - timedelta(hours=failed_hours)
        pending = Notification.objects.pending()
        rows = {
            "immediate": pending.immediate().count(),
            "routine": pending.routine().count(),
            # Due to be tried since: its creation, or the end of its back-off after a failure.
            "late": pending.immediate()
            .alias(tried_from=Coalesce("next_attempt_at", "created_at"))
            .filter(tried_from__lt=stale)
            .count(),
            "failed": Notification.objects.filter(
                status=Status.FAILED, failed_at__gte=recent
            ).count(),
        }
        digests = Digest.objects.aggregate(
            pending=Count("pk", filter=Q(status=Status.PENDING)),
            failed=Count("pk", filter=Q(status=Status.FAILED, failed_at__gte=recent)),
        )
        self.stdout.write(
            f"notifications: {rows['immediate']} safety pending ({rows['late']} late), "
            f"{rows['routine']} routine pending, {rows['failed']} failed in {failed_hours} h; "
            f"digests: {digests['pending']} pending, {digests['failed']} failed in "
            f"{failed_hours} h."
        )
        problems = []
        if rows["late"]:
            problems.append(
                f"{rows['late']} safety reminder(s) pending for more than {stale_minutes} min"
            )
        if rows["failed"] or digests["failed"]:
            problems.append(f"sends failed in the last {failed_hours} h (see the admin's outbox)")
        if problems:
            self.stderr.write("CRITICAL: " + "; ".join(problems) + ".")
            raise SystemExit(CRITICAL)
