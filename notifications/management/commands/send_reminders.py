"""Run one reminder sweep and send what is pending, in this process (no worker, no beat).

    manage.py send_reminders

For deployments without Celery beat: run it from cron every few minutes. It is safe to run
alongside workers and beat, and twice at once: the same unique key and claims apply.
Safety reminders are sent one by one; routine ones in each recipient's daily digest, once
its local hour (REMINDER_DIGEST_HOUR) has come. A failure is retried by the next run after
its back-off.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from notifications import digests, services


class Command(BaseCommand):
    help = "Run one reminder sweep and send pending notifications and digests in-process."

    def handle(self, *args, **options):
        now = timezone.now()
        swept = services.sweep(now=now, dispatch=False)
        ids = list(
            services.ready_to_queue(now).order_by("created_at", "pk").values_list("pk", flat=True)
        )
        outcomes: dict[str, int] = {}
        for pk in ids:
            outcome = services.send_notification(notification_id=pk).outcome
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        run = digests.send_digests(now=now)
        for outcome, count in run.outcomes.items():
            outcomes[f"digest(s) {outcome}"] = count
        if not outcomes:
            self.stdout.write(f"{swept.due} reminder(s) due, nothing to send.")
            return
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(f"{swept.due} reminder(s) due; {summary}.")
