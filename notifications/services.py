"""Sweep, dispatch and send: how a due reminder becomes exactly one e-mail.

Immediate (safety) notifications are sent one by one as below. Routine ones are carried by
their recipient's daily digest (notifications.digests), which follows the same rules.

- `sweep` records what is due as notification rows: it looks up which of them the outbox
  holds already (most of them, sweep after sweep), writes the words of the others only,
  and inserts those in one INSERT ... SELECT FROM json_to_recordset. The unique key and
  ON CONFLICT DO NOTHING make it safe to run twice or twice at once; it
  publishes send tasks (and a digest round) only after its transaction commits, so a worker
  never looks for a row it cannot see yet.
- `dispatch_pending` publishes a send task per pending row that nobody is working on: rows
  never published (the broker was down), and rows whose task or claim went stale (a worker
  died holding them). It is the sweep's last step and its own periodic task, which is how
  a broker outage or a killed worker delays a reminder without losing it.
- `send_notification` claims a row with a conditional UPDATE (one winner, checked by rows
  affected), sends it, and records the outcome under its claim token. A claim expires
  after `conf.claim_timeout()`, so a row claimed by a dead worker is sent by another.
  Exactly-once across SMTP is impossible (a crash between the server's acceptance and our
  UPDATE resends); the claim keeps that window to one send's duration.
"""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import language_of
from trials.models import Membership

from . import conf
from .models import ROUTINE_KINDS, Channel, Notification, Status
from .reminders import Due, due_now
from .texts import Message, compose_each

logger = logging.getLogger(__name__)

#: A retry published with a countdown may run a moment before the row's next attempt time
#: (clock granularity); within this slack it still claims.
CLAIM_SLACK = timedelta(seconds=1)


@dataclass(frozen=True)
class SweepResult:
    due: int  # reminders due, one per recipient, already recorded ones included


@dataclass(frozen=True)
class SendResult:
    outcome: str  # "sent", "retry", "failed" or "skipped" (not claimed)
    retry_in: float | None = None


# Sweep ------------------------------------------------------------------------------------


def _recipients(dues: list[Due]) -> dict[tuple[int, str], list[Membership]]:
    """Active memberships by (study, role), in one query for the whole sweep."""
    studies = {due.participant.study_id for due in dues}
    roles = {role for due in dues for role in due.notify}
    members = (
        Membership.objects.active()
        .filter(study_id__in=studies, role__in=roles, user__is_active=True)
        .select_related("user__profile")
    )
    grouped: dict[tuple[int, str], list[Membership]] = {}
    for member in members:
        grouped.setdefault((member.study_id, member.role), []).append(member)
    return grouped


def _covering(members, due: Due):
    """The members holding one of the reminder's roles whose site covers the participant."""
    participant = due.participant
    for role in due.notify:
        for member in members.get((participant.study_id, role), []):
            if member.site_id in (None, participant.site_id):
                yield member


#: The columns a sweep writes, in the order of `_row`'s values (the others are empty).
COLUMNS = (
    ("kind", "text"),
    ("rule_id", "bigint"),
    ("recipient_id", "bigint"),
    ("study_id", "bigint"),
    ("site_id", "bigint"),
    ("participant_id", "bigint"),
    ("content_type_id", "integer"),
    ("object_id", "bigint"),
    ("object_label", "text"),
    ("link", "text"),
    ("due_date", "date"),
    ("due_at", "timestamptz"),
    ("channel", "text"),
    ("language", "text"),
    ("subject", "text"),
    ("body", "text"),
)
#: The unique key's columns (notification_once_per_rule_recipient_object_due).
KEY = ("kind", "rule_id", "recipient_id", "content_type_id", "object_id", "due_date")

Key = tuple  # the values of KEY, in order


@dataclass(frozen=True)
class Wanted:
    """One reminder for one recipient, before its words are written."""

    due: Due
    member: Membership
    content_type_id: int
    language: str


def _row(wanted: Wanted, message) -> tuple:
    due, member = wanted.due, wanted.member
    participant = due.participant
    return (
        due.event,
        due.rule.pk if due.rule is not None else None,
        member.user_id,
        participant.study_id,
        participant.site_id,
        participant.pk,
        wanted.content_type_id,
        due.obj.pk,
        message.label,
        message.link,
        due.due_date,
        due.due_at,
        Channel.EMAIL if member.user.email else Channel.INBOX,
        wanted.language,
        message.subject,
        message.body,
    )


def _wanted(dues: list[Due]) -> dict[Key, Wanted]:
    """One entry per reminder and recipient (a member holding two notified roles gets one),
    by unique key."""
    members = _recipients(dues)
    content_types = ContentType.objects.get_for_models(*{type(due.obj) for due in dues})
    wanted: dict[Key, Wanted] = {}
    for due in dues:
        content_type = content_types[type(due.obj)].pk
        rule = due.rule.pk if due.rule is not None else None
        for member in _covering(members, due):
            key = (due.event, rule, member.user_id, content_type, due.obj.pk, due.due_date)
            if key not in wanted:
                wanted[key] = Wanted(due, member, content_type, language_of(member.user))
    return wanted


def _json(rows: list[tuple], columns: tuple[str, ...]) -> str:
    """Rows as one JSON array of objects: a single parameter whatever the number of rows
    (psycopg quotes a Python list of thousands of values one by one, on the client)."""
    return json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=_iso)


def _iso(value: date | datetime) -> str:
    """Dates and times in full (Django's JSON encoder cuts microseconds to milliseconds)."""
    return value.isoformat()


def _recorded(keys: list[Key]) -> set[Key]:
    """The keys among `keys` the outbox holds already, in one query on the unique index.

    Most of what a sweep finds was recorded by an earlier sweep (the look-back spans days,
    and the sweep runs every few minutes): skipping those before writing their words is
    most of a sweep's saving. Rule-less keys (an alert, an unblinding: a handful) are not
    looked up: their NULL rule matches nothing by equality, and ON CONFLICT keeps them once."""
    keyed = [key for key in keys if key[1] is not None]
    if not keyed:
        return set()
    table = Notification._meta.db_table
    names = ", ".join(KEY)
    types = ", ".join(f"{name} {dict(COLUMNS)[name]}" for name in KEY)
    sql = f"""
        SELECT {names} FROM {table}
        WHERE ({names}) IN (SELECT {names} FROM json_to_recordset(%s::json) AS k({types}))
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [_json(keyed, KEY)])
        return set(cursor.fetchall())


def _rows(dues: list[Due]) -> tuple[int, list[tuple]]:
    """(How many reminders are due, one per recipient; the rows not recorded yet, written in
    their recipient's language, as column values: see COLUMNS)."""
    if not dues:
        return 0, []
    wanted = _wanted(dues)
    recorded = _recorded(list(wanted))
    new = {key: item for key, item in wanted.items() if key not in recorded}
    # Words once per reminder and language, composed language by language.
    by_language: dict[str, dict[int, Due]] = {}
    for item in new.values():
        by_language.setdefault(item.language, {})[id(item.due)] = item.due
    messages: dict[tuple[str, int], Message] = {}
    for language, group in by_language.items():
        composed = compose_each(group.values(), language=language)
        for ident, message in zip(group, composed, strict=True):
            messages[language, ident] = message
    rows = {key: _row(item, messages[item.language, id(item.due)]) for key, item in new.items()}
    # Inserted in key order: two sweeps at once then take their row locks in the same
    # order, and one waits for the other instead of deadlocking.
    return len(wanted), [rows[key] for key in sorted(rows, key=_lock_order)]


def _lock_order(key: tuple) -> tuple:
    # A rule-less reminder (an instrument alert's route to the investigators) has no rule
    # id: it sorts first instead of failing to compare None with an id.
    kind, rule_id, *rest = key
    return (kind, -1 if rule_id is None else rule_id, *rest)


def _insert(rows: list[tuple], *, now: datetime) -> None:
    """INSERT ... SELECT FROM json_to_recordset ON CONFLICT DO NOTHING: one statement and one
    parameter whatever the number of rows. bulk_create compiled a placeholder per value and
    a model instance per row, and arrays (unnest) were quoted value by value on the client:
    either was most of a sweep's time once a study had thousands due."""
    table = Notification._meta.db_table
    names = ", ".join(name for name, _ in COLUMNS)
    types = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
    sql = f"""
        INSERT INTO {table} ({names}, status, attempts, last_error, created_at)
        SELECT {names}, %s, 0, '', %s FROM json_to_recordset(%s::json) AS r({types})
        ON CONFLICT DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [Status.PENDING, now, _json(rows, tuple(n for n, _ in COLUMNS))])


def sweep(*, now: datetime | None = None, dispatch: bool = True) -> SweepResult:
    """Record every reminder due at `now`; publish their send tasks once committed."""
    now = now or timezone.now()
    dues = list(due_now(now=now, lookback=conf.lookback()))
    due, rows = _rows(dues)
    with transaction.atomic():
        if rows:
            _insert(rows, now=timezone.now())
        if dispatch:
            transaction.on_commit(dispatch_pending)
            transaction.on_commit(publish_digest_task)
    return SweepResult(due=due)


# Dispatch ---------------------------------------------------------------------------------


def ready_to_queue(now: datetime):
    """Pending immediate rows no live task stands for: never published, or published /
    claimed longer ago than the claim timeout, and not waiting out a retry back-off.

    Routine rows are not published one by one: their recipient's daily digest carries them
    (notifications.digests)."""
    stale = now - conf.claim_timeout()
    return (
        Notification.objects.pending()
        .immediate()
        .filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale),
            Q(queued_at__isnull=True) | Q(queued_at__lt=stale),
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        )
    )


def dispatch_pending(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Publish a send task per ready row; returns how many were published.

    Rows are marked queued under SKIP LOCKED, so two dispatchers publish a row once. Rows
    not published (broker down) are unmarked: the next sweep or dispatch publishes them
    when the broker is back.
    """
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            ready_to_queue(now)
            .order_by("created_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(queued_at=now)
    published = publish_send_tasks(ids) if ids else 0
    if published < len(ids):
        Notification.objects.filter(pk__in=ids[published:], queued_at=now).update(queued_at=None)
    return published


def publish_send_tasks(ids: list[int]) -> int:
    """Publish a send task per id over one broker connection; how many went out.

    The connection is tried once, without kombu's default retries (several seconds), and
    each publish with retry=False: with the broker down, a sweep gives up at once and
    leaves the rows pending instead of blocking.
    """
    from .tasks import send_notification  # tasks import this module

    published = 0
    try:
        with send_notification.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0.5, interval_max=0.5
            )
            for pk in ids:
                send_notification.apply_async((pk,), retry=False, producer=producer)
                published += 1
    except Exception:
        logger.warning(
            "Broker unavailable: %d reminder(s) left pending for the next dispatch.",
            len(ids) - published,
            exc_info=True,
        )
    return published


def publish_digest_task() -> bool:
    """Ask a worker for a digest round (notifications.digests); False if the broker is down.

    One task stands for every digest: a round claims what is ready, so a duplicate task
    finds nothing, and the requeue beat publishes one every minute anyway."""
    from .tasks import send_digests  # tasks import this module

    try:
        with send_digests.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0.5, interval_max=0.5
            )
            send_digests.apply_async(retry=False, producer=producer)
    except Exception:
        logger.warning("Broker unavailable: digests wait for the next beat.", exc_info=True)
        return False
    return True


# Send -------------------------------------------------------------------------------------


def claim(notification_id: int, *, now: datetime) -> uuid.UUID | None:
    """Take the row for sending: a token if this caller won it, None otherwise.

    One UPDATE decides: the row must be pending, in no digest, unclaimed or claimed longer
    ago than the claim timeout (its worker is presumed dead), and past its back-off. The
    attempt is counted here, so a worker that dies mid-send still leaves the attempt
    recorded. A routine row a digest holds is the digest's to send.
    """
    token = uuid.uuid4()
    won = (
        Notification.objects.pending()
        .filter(pk=notification_id, digest__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - conf.claim_timeout()))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLAIM_SLACK))
        .update(claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    )
    return token if won == 1 else None


def _deliver(notification: Notification) -> None:
    """E-mail it (the inbox is the row itself, visible since the sweep wrote it)."""
    if notification.channel != Channel.EMAIL:
        return
    EmailMessage(
        subject=notification.subject,
        body=notification.body,
        to=[notification.recipient.email],
        headers={"X-Il2-Ecrf-Notification": str(notification.pk)},
    ).send(fail_silently=False)


def send_notification(*, notification_id: int, now: datetime | None = None) -> SendResult:
    """Claim, deliver and record one notification. Safe to call any number of times."""
    now = now or timezone.now()
    token = claim(notification_id, now=now)
    if token is None:
        return SendResult("skipped")
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        _deliver(notification)
    except Exception as exc:  # any backend error: SMTP refusal, timeout, DNS, ...
        return _record_failure(notification, token, exc, now=now)
    updated = Notification.objects.filter(pk=notification_id, claim_token=token).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        claimed_at=None,
        claim_token=None,
        next_attempt_at=None,
        last_error="",
    )
    if not updated:
        logger.warning(
            "Notification %s was sent after its claim expired; another worker may have sent "
            "it too. Raise REMINDER_CLAIM_TIMEOUT_SECONDS above the longest send.",
            notification_id,
        )
    return SendResult("sent")


def _record_failure(
    notification: Notification, token: uuid.UUID, exc: Exception, *, now: datetime
) -> SendResult:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    release = {"claimed_at": None, "claim_token": None, "last_error": error}
    mine = Notification.objects.filter(pk=notification.pk, claim_token=token)
    if notification.attempts >= conf.max_attempts():
        mine.update(status=Status.FAILED, failed_at=now, next_attempt_at=None, **release)
        logger.error("Notification %s failed for good: %s", notification.pk, error)
        return SendResult("failed")
    wait = conf.backoff(notification.attempts)
    mine.update(next_attempt_at=now + wait, **release)
    logger.warning(
        "Notification %s attempt %d failed (%s); next in %s.",
        notification.pk,
        notification.attempts,
        error,
        wait,
    )
    return SendResult("retry", retry_in=wait.total_seconds())


def retry_failed(*, notification: Notification) -> None:
    """A study admin sends a failed notification again, with a fresh count of attempts.

    It goes out on its own at once, even a routine one whose digest failed: the admin asked
    for it now, not in tomorrow's digest. Should that send task be lost (broker down), the
    row, pending in no digest, joins its recipient's next digest instead."""
    with transaction.atomic():
        retried = Notification.objects.filter(pk=notification.pk, status=Status.FAILED).update(
            status=Status.PENDING,
            failed_at=None,
            attempts=0,
            next_attempt_at=None,
            queued_at=None,
            digest=None,
        )
        if retried and notification.kind in ROUTINE_KINDS:
            transaction.on_commit(lambda: publish_send_tasks([notification.pk]))
        else:
            transaction.on_commit(dispatch_pending)


def mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read."""
    unread = Notification.objects.for_user(user).unread()
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
