"""Shared set-up for the reminder tests: the RP demo study, its people, and clocks.

The RP protocol's rules: visit_window_opens 3 days before → coordinator; visit_overdue 1 day
after → coordinator + investigator; dose_due on the day → coordinator; sae_report_due 12 h
before → investigator + study admin; ae_unreviewed after 2 days → investigator.

With a baseline on Monday 2025-01-06, W4's window is 2025-01-31 .. 2025-02-06 (target
2025-02-03), and induction doses fall Monday to Friday.
"""

from datetime import date, datetime
from smtplib import SMTPException
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.core.mail.backends.base import BaseEmailBackend

from assessments.models import InstrumentAlert, InstrumentResponse
from notifications import services
from notifications.models import Notification
from tests.factories import (
    MembershipFactory,
    SiteFactory,
    UserFactory,
    enrolled_participant,
    load_demo_protocol,
)
from trials.models import Role

BASELINE = date(2025, 1, 6)
SHANGHAI = "Asia/Shanghai"
PARIS = "Europe/Paris"


def at(*args, tz: str = SHANGHAI) -> datetime:
    """An aware datetime read on the wall clock of `tz`."""
    return datetime(*args, tzinfo=ZoneInfo(tz))


def staff(study, username, role, *, site=None, blinded=False, **user_fields):
    user = UserFactory(username=username, **user_fields)
    MembershipFactory(user=user, study=study, site=site, role=role, is_blinded=blinded)
    return user


def build_cast() -> SimpleNamespace:
    """RP with its PKUPH site (Shanghai) and a Paris site, one participant at each.

    cora coordinates at PKUPH only, paul at Paris only; ivy investigates at every site;
    moe monitors; ada is the study admin; charlie has no membership.
    """
    version = load_demo_protocol()
    participant = enrolled_participant(baseline=BASELINE, version=version)
    study, site = participant.study, participant.site
    paris = SiteFactory(study=study, code="PAR", name="Paris", timezone=PARIS)
    return SimpleNamespace(
        version=version,
        study=study,
        site=site,
        paris=paris,
        participant=participant,
        paris_participant=enrolled_participant(baseline=BASELINE, version=version, site=paris),
        coordinator=staff(study, "cora", Role.COORDINATOR, site=site),
        paris_coordinator=staff(study, "paul", Role.COORDINATOR, site=paris),
        investigator=staff(study, "ivy", Role.INVESTIGATOR),
        monitor=staff(study, "moe", Role.MONITOR),
        admin=staff(study, "ada", Role.STUDY_ADMIN),
        outsider=UserFactory(username="charlie"),
    )


def sweep(now: datetime):
    """A sweep that records only: publishing is tested on its own."""
    return services.sweep(now=now, dispatch=False)


def recorded(kind: str | None = None, **filters) -> list[Notification]:
    qs = Notification.objects.select_related("recipient").order_by("recipient__username", "pk")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.filter(**filters))


def recipients(kind: str | None = None, **filters) -> list[str]:
    return [n.recipient.username for n in recorded(kind, **filters)]


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses everything."""

    def send_messages(self, email_messages):
        raise SMTPException("550 relay refused")


REFUSING_BACKEND = "tests.notifications.helpers_reminders.RefusingBackend"


def dose_row(cast, user=None) -> Notification:
    """Sweep on Monday 6 January (a dose day) and return the coordinator's dose reminder."""
    sweep(at(2025, 1, 6, 9, 0))
    return Notification.objects.get(kind="dose_due", recipient=user or cast.coordinator)


class CountingBackend(BaseEmailBackend):
    """An in-memory mail server that counts the connections opened to it.

    Like Django's SMTP backend, send_messages opens (and then closes) a connection only when
    none is open, so a sender that opens one first sends a batch over it."""

    opened = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_open = False

    def open(self):
        if self.is_open:
            return False
        type(self).opened += 1
        self.is_open = True
        return True

    def close(self):
        self.is_open = False

    def send_messages(self, email_messages):
        from django.core import mail

        created = self.open()
        try:
            mail.outbox.extend(email_messages)
        finally:
            if created:
                self.close()
        return len(email_messages)


COUNTING_BACKEND = "tests.notifications.helpers_reminders.CountingBackend"


def raise_alert(participant, user, moment, *, cleared=False):
    """A PHQ-9 self-harm alert on the participant's W0 response, raised at `moment` (and
    cleared at that moment too, if `cleared`)."""
    visit = participant.visits.get(code="W0")
    response = InstrumentResponse.objects.create(
        participant=participant,
        scheduled_visit=visit,
        instrument="PHQ9",
        answers={},
        total=3,
        alerts=["self_harm"],
        entered_by=user,
    )
    return InstrumentAlert.objects.create(
        response=response,
        participant=participant,
        code="self_harm",
        raised_at=moment,
        raised_by=user,
        cleared_at=moment if cleared else None,
    )
