"""Digests: a person's routine reminders of one study for one day, in one e-mail.

Routine notifications (models.ROUTINE_KINDS: visit windows, overdue visits, doses due,
unreviewed AEs) are still recorded one row per reminder per recipient by the sweep, under
the same unique key, and listed one by one in the inbox. What changes is the e-mail: one
`Digest` per (recipient, study, local day) carries all of them.

Decisions, and why:

- **When.** A day's digest is created from `REMINDER_DIGEST_HOUR` (default 7) on the
  recipient's clock, by whichever digest round runs first after that hour (the end of each
  sweep, and the requeue beat every minute). Not at the first sweep after midnight: most of a
  day's reminders appear at midnight, but data entered in the early hours still joins the
  morning's list, and people read it when it arrives instead of under a night's mail.
- **Whose clock.** The recipient's site's time zone; a member of every site (an
  investigator, a study admin) uses the study's first site (its lead site). Each reminder in
  the digest keeps its own site's dates, and the site's zone is named next to it.
- **Which rows.** A digest gathers its rows when it is claimed, in the claim's transaction:
  every pending routine row of its recipient and study that no digest holds. A row recorded
  after the day's digest was claimed waits for the next day's digest (the unique key keeps
  it to one routine e-mail a day); it is in the inbox at once meanwhile, and never lost. A
  digest retried after a failure gathers the rows recorded since its last attempt too.
- **Sending.** Up to `conf.DIGEST_BATCH` ready digests are claimed at once (SELECT ... FOR
  UPDATE SKIP LOCKED, then one UPDATE with one claim token, so two senders never share a
  digest), rendered, sent over ONE mail connection, and recorded in one transaction: the
  sent digests and all their rows in two UPDATEs. Queries per round do not grow with the
  number of digests.
- **Failures.** Per digest, like a row: the attempt is counted at the claim (rows mirror
  it), a refusal waits out `conf.backoff`, and after `REMINDER_MAX_ATTEMPTS` the digest and
  its rows are failed with the error, visible in the admin's outbox. A study admin's retry of
  such a row sends that row on its own at once (services.retry_failed).
- **Exactly once** holds per digest as per row: a claim expires after the claim timeout
  (a dead sender's digest is taken over), and an outcome is written only under the claim's
  token. A crash between the mail server's acceptance and the UPDATE resends that digest.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.core.mail import EmailMessage, get_connection
from django.db import connection as database
from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    TextField,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import language_of
from trials.models import Membership, Site

from . import conf
from .models import ROUTINE_KINDS, Digest, Notification, Status
from .reminders import zone
from .services import CLAIM_SLACK
from .texts import DigestLine, compose_digest

logger = logging.getLogger(__name__)


@dataclass
class DigestRun:
    created: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str, n: int) -> None:
        if n:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n


# Assembly ---------------------------------------------------------------------------------


def gatherable(now: datetime):
    """Pending routine rows no digest holds, and no live single send either (a study
    admin's retry claims a row on its own; a claim left by a dead worker expires)."""
    return (
        Notification.objects.pending()
        .routine()
        .filter(digest__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - conf.claim_timeout()))
    )


def _zones(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The time zone of each (recipient, study): their site's, or the study's lead site's."""
    users = {user for user, _ in pairs}
    studies = {study for _, study in pairs}
    lead: dict[int, str] = {}
    for site in Site.objects.filter(study_id__in=studies).order_by("pk"):
        lead.setdefault(site.study_id, site.timezone)
    own: dict[tuple[int, int], str] = {}
    members = (
        Membership.objects.active()
        .filter(user_id__in=users, study_id__in=studies, site__isnull=False)
        .select_related("site")
        .order_by("pk")
    )
    for member in members:
        own.setdefault((member.user_id, member.study_id), member.site.timezone)
    return {pair: own.get(pair) or lead.get(pair[1], "UTC") for pair in pairs}


def assemble(*, now: datetime) -> int:
    """Create today's digest of every (recipient, study) with routine rows waiting whose
    local hour has come; a digest that exists already is kept (ON CONFLICT DO NOTHING)."""
    pairs = set(gatherable(now).values_list("recipient_id", "study_id").distinct().order_by())
    if not pairs:
        return 0
    hour = conf.digest_hour()
    digests = []
    for (user, study), tz in sorted(_zones(pairs).items()):
        local = now.astimezone(zone(tz))
        if local.hour >= hour:
            digests.append(Digest(recipient_id=user, study_id=study, day=local.date()))
    Digest.objects.bulk_create(digests, ignore_conflicts=True)
    return len(digests)


# Claim ------------------------------------------------------------------------------------


def ready(now: datetime):
    stale = now - conf.claim_timeout()
    return Digest.objects.filter(status=Status.PENDING).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLAIM_SLACK),
    )


def claim(*, now: datetime, limit: int) -> tuple[uuid.UUID | None, list[int]]:
    """Take up to `limit` ready digests and gather their rows; (token, ids) of those won.

    SKIP LOCKED lets two senders claim disjoint batches; the gathering UPDATE's conditions
    (no digest, no live claim) are re-checked by PostgreSQL under each row's lock, so a row
    goes to one digest or to one single send, never both."""
    with transaction.atomic():
        ids = list(
            ready(now)
            .order_by("day", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return None, []
        token = uuid.uuid4()
        Digest.objects.filter(pk__in=ids).update(
            claimed_at=now, claim_token=token, attempts=F("attempts") + 1
        )
        _gather(ids, now)
    return token, ids


def _gather(ids: list[int], now: datetime) -> None:
    """Give every gatherable row of the claimed digests' (recipient, study) to its digest and
    count the attempt on all of the digest's rows, in one statement: an UPDATE ... FROM join
    (the ORM's correlated subquery per row, plus a second UPDATE for the attempts, took
    seconds for tens of thousands of rows). Should one person have two claimed digests of a
    study (yesterday's still retrying, today's), a new row goes to either: one e-mail
    carries it."""
    rows, digests = Notification._meta.db_table, Digest._meta.db_table
    sql = f"""
        UPDATE {rows} AS n
        SET digest_id = d.id, attempts = n.attempts + 1, last_error = ''
        FROM {digests} AS d
        WHERE d.id = ANY(%s)
          AND n.recipient_id = d.recipient_id AND n.study_id = d.study_id
          AND n.status = %s AND n.kind = ANY(%s)
          AND (
            n.digest_id = d.id
            OR (n.digest_id IS NULL AND (n.claimed_at IS NULL OR n.claimed_at < %s))
          )
    """
    params = [ids, Status.PENDING, sorted(ROUTINE_KINDS), now - conf.claim_timeout()]
    with database.cursor() as cursor:
        cursor.execute(sql, params)


# Send -------------------------------------------------------------------------------------


def _lines(ids: list[int]) -> dict[int, list[DigestLine]]:
    """The pending rows of the claimed digests, as plain values, by digest."""
    fields = (
        "digest_id",
        "pk",
        "kind",
        "subject",
        "link",
        "due_date",
        "site__code",
        "site__timezone",
        "participant__subject_id",
        "participant__screening_number",
    )
    lines: dict[int, list[DigestLine]] = defaultdict(list)
    rows = Notification.objects.pending().filter(digest_id__in=ids).order_by("pk")
    for digest, pk, kind, subject, link, due, site, tz, subject_id, screening in rows.values_list(
        *fields
    ):
        who = subject_id or screening or ""
        lines[digest].append(DigestLine(pk, kind, subject, link, due, site or "", tz or "", who))
    return lines


def _message(digest: Digest, rows: list[DigestLine], connection) -> EmailMessage:
    subject, body = compose_digest(
        study_code=digest.study.code,
        day=digest.day,
        rows=rows,
        language=language_of(digest.recipient),
    )
    return EmailMessage(
        subject=subject,
        body=body,
        to=[digest.recipient.email],
        headers={"X-Il2-Ecrf-Digest": str(digest.pk)},
        connection=connection,
    )


def send_round(*, now: datetime, run: DigestRun) -> bool:
    """Claim, send and record one batch of digests; False when none was ready."""
    token, ids = claim(now=now, limit=conf.DIGEST_BATCH)
    if not ids:
        return False
    digests = list(
        Digest.objects.filter(pk__in=ids, claim_token=token)
        .select_related("recipient__profile", "study")
        .order_by("pk")
    )
    rows = _lines(ids)

    sent: list[Digest] = []
    failures: dict[int, Exception] = {}
    empty: list[int] = []
    mailer = get_connection(fail_silently=False)
    try:
        for digest in digests:
            items = rows.get(digest.pk)
            if not items:
                empty.append(digest.pk)
                continue
            if not digest.recipient.email:  # the inbox is the rows themselves
                sent.append(digest)
                continue
            try:
                mailer.open()  # a no-op once open: one connection for the batch
                mailer.send_messages([_message(digest, items, mailer)])
            except Exception as exc:  # any backend error: SMTP refusal, timeout, DNS, ...
                failures[digest.pk] = exc
                mailer.close()  # the next digest starts on a fresh connection
            else:
                sent.append(digest)
    finally:
        mailer.close()

    _record(token, sent, failures, empty, {d.pk: d.attempts for d in digests}, now, run)
    return True


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


@transaction.atomic
def _record(token, sent, failures, empty, attempts, now, run: DigestRun) -> None:
    """Write every outcome of a round in a fixed number of UPDATEs, under the claim token
    (a digest whose claim expired mid-round was taken over: its outcome is the other's)."""
    mine = Digest.objects.filter(claim_token=token)
    release = {"claimed_at": None, "claim_token": None}
    if sent:
        sent_at = timezone.now()
        # The rows sent are exactly the digests' pending rows: rows join a digest only in
        # the claim's transaction, and a claim taken over changes the token checked here.
        Notification.objects.pending().filter(
            digest_id__in=[d.pk for d in sent], digest__claim_token=token
        ).update(status=Status.SENT, sent_at=sent_at, next_attempt_at=None, last_error="")
        done = mine.filter(pk__in=[d.pk for d in sent]).update(
            status=Status.SENT, sent_at=sent_at, next_attempt_at=None, last_error="", **release
        )
        if done < len(sent):
            logger.warning(
                "%d digest(s) sent after their claim expired; another sender may have sent "
                "them too. Raise REMINDER_CLAIM_TIMEOUT_SECONDS above a round's duration.",
                len(sent) - done,
            )
        run.count("sent", done)
    if failures:
        final = [pk for pk in failures if attempts[pk] >= conf.max_attempts()]
        retry = [pk for pk in failures if pk not in final]
        errors = [When(pk=pk, then=Value(_error(exc))) for pk, exc in failures.items()]
        row_errors = [When(digest_id=pk, then=Value(_error(exc))) for pk, exc in failures.items()]
        last_error = Case(*errors, output_field=TextField())
        rows_of = Notification.objects.pending().filter(digest__claim_token=token)
        rows_of.filter(digest_id__in=final).update(
            status=Status.FAILED,
            failed_at=now,
            last_error=Case(*row_errors, output_field=TextField()),
        )
        rows_of.filter(digest_id__in=retry).update(
            last_error=Case(*row_errors, output_field=TextField())
        )
        mine.filter(pk__in=final).update(
            status=Status.FAILED,
            failed_at=now,
            next_attempt_at=None,
            last_error=last_error,
            **release,
        )
        waits = [When(pk=pk, then=Value(now + conf.backoff(attempts[pk]))) for pk in retry]
        mine.filter(pk__in=retry).update(
            next_attempt_at=Case(*waits, output_field=DateTimeField()),
            last_error=last_error,
            **release,
        )
        for pk, exc in failures.items():
            logger.warning("Digest %s attempt %d failed: %s", pk, attempts[pk], _error(exc))
        run.count("failed", len(final))
        run.count("retry", len(retry))
    if empty:
        # Nothing left to say (its rows went to another digest of the same person): drop it,
        # so that it does not stand for the day's e-mail.
        held = Notification.objects.filter(digest=OuterRef("pk"))
        mine.filter(pk__in=empty).exclude(Exists(held)).delete()
        # One still holding rows that are no longer pending has nothing to send either.
        mine.filter(pk__in=empty).update(status=Status.SENT, sent_at=now, **release)


def send_digests(*, now: datetime | None = None) -> DigestRun:
    """Create the digests whose hour has come and send every ready one, batch by batch."""
    now = now or timezone.now()
    run = DigestRun(created=assemble(now=now))
    while send_round(now=now, run=run):
        pass
    return run
