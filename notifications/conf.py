"""The reminder tunables, read from settings (which read them from the environment).

Defaults live here so that the app works before an operator tunes anything; tests and the
integration workers override them through settings.
"""

from datetime import timedelta

from django.conf import settings

#: Longest wait between two attempts, however many attempts failed before.
MAX_BACKOFF = timedelta(hours=1)


def claim_timeout() -> timedelta:
    """After this long, a claim (or a published task nobody ran) is presumed dead.

    It must exceed the longest send (EMAIL_TIMEOUT plus margin): a live worker whose claim
    expired mid-send could otherwise race a second worker into sending twice.
    """
    return timedelta(seconds=float(getattr(settings, "REMINDER_CLAIM_TIMEOUT_SECONDS", 300)))


def max_attempts() -> int:
    return int(getattr(settings, "REMINDER_MAX_ATTEMPTS", 5))


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failures: base, 2 × base, 4 × base, ..."""
    base = float(getattr(settings, "REMINDER_RETRY_BACKOFF_SECONDS", 60))
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def lookback() -> timedelta:
    """How far back a sweep still catches up on reminders it missed (beat down, outage).

    It bounds every sweep query from below, so that the sweep reads what is due now and
    not the whole history of the study.
    """
    return timedelta(days=int(getattr(settings, "REMINDER_LOOKBACK_DAYS", 7)))


def sweep_minutes() -> int:
    return int(getattr(settings, "REMINDER_SWEEP_MINUTES", 5))


def site_url() -> str:
    """Scheme and host put in front of links in e-mails (links are relative without it)."""
    return str(getattr(settings, "REMINDER_SITE_URL", "")).rstrip("/")


def digest_hour() -> int:
    """The local hour (recipient's site zone) from which the day's routine digest goes out."""
    return int(getattr(settings, "REMINDER_DIGEST_HOUR", 7))


#: Digests claimed and sent per round over one SMTP connection. The round must fit in the
#: claim timeout (a local relay takes milliseconds per message, so 100 leaves a wide margin).
DIGEST_BATCH = 100
