"""Celery tasks: thin wrappers that call the services (which hold the guarantees).

Tasks run with acks_late and reject_on_worker_lost (settings): a message is acknowledged
only after its task returns, so a task lost with its worker is redelivered; and the
dispatch step republishes rows whose claim went stale, in case the broker holds the
unacknowledged message back for its visibility timeout.
"""

from celery import shared_task

from . import digests, services


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep() -> int:
    """Record what is due; the send tasks are published when its transaction commits."""
    return services.sweep().due


@shared_task(name="notifications.requeue_pending", ignore_result=True)
def requeue_pending() -> int:
    """Publish send tasks for rows left pending (broker outage, dead worker), and a digest
    round: digests whose hour came, or whose back-off or dead sender's claim ran out."""
    published = services.dispatch_pending()
    services.publish_digest_task()
    return published


@shared_task(name="notifications.send_digests", acks_late=True, ignore_result=True)
def send_digests() -> dict[str, int]:
    """Send every ready digest; a failed one waits out its back-off for a later round."""
    return digests.send_digests().outcomes


@shared_task(
    bind=True, name="notifications.send", acks_late=True, max_retries=None, ignore_result=True
)
def send_notification(self, notification_id: int) -> str:
    """Send one notification; on failure retry after the back-off the service chose."""
    result = services.send_notification(notification_id=notification_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.outcome
