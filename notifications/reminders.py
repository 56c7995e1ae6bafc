"""What is due: one small finder per reminder event.

Each finder reads the candidates with one query bounded by a date (or time) range that an
index serves, so that a sweep costs what is due, not what the study holds:

| event | rows read | index |
| --- | --- | --- |
| visit_window_opens | upcoming visits whose window opens soon | visit_upcoming_window_idx |
| visit_overdue | upcoming visits whose window closed recently | visit_upcoming_window_idx |
| dose_due | planned doses in the coming days | dose_planned_date_idx |
| sae_report_due | open report deadlines near now | ae_*_due_open_idx (one per kind) |
| ae_unreviewed | AEs awaiting review since long enough | ae_awaiting_review_idx |
| phq9_self_harm | standing instrument alerts raised recently | instrument_alert_standing_idx |
| emergency_unblinding | unblindings done recently (no rule: study admins, at once) | a few rows |
| dose_hold | recent holds and stops (coordinators, at once) | dose_modification_notice_idx |

"Today" is the site's today: the query range is widened by a day on each side so that it
covers every time zone, then each candidate is checked against its own site's calendar.
Ranges are bounded below by the look-back (conf.lookback), which is how far a late sweep
still catches up. Rules apply per participant's protocol version.

Instrument alerts (suicidality / self-harm: PHQ-9 item 9, HAM-D 17 item 3) are the one
event no protocol can silence: they reach the site's investigators whether or not the
protocol has a rule for them, and a rule only adds recipients. The event keeps its first
name, `phq9_self_harm`, because protocol files and stored rules and notifications use it;
it stands for every instrument's suicidality alert.

An emergency unblinding is announced the same way rather than from the unblinding's own
request: the message then survives a mail server that refuses it (retried from the outbox,
never a failed page after the unblinding committed), and patients, below notifications in
the layers, does not call up into it.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.db import models

from assessments import instruments
from assessments.models import InstrumentAlert
from patients.models import (
    DoseModification,
    DoseStatus,
    ModificationKind,
    Participant,
    ParticipantStatus,
    PlannedDose,
    ScheduledVisit,
    Unblinding,
    VisitStatus,
)
from safety.models import DEADLINE_FIELDS, AdverseEvent, DeadlineKind
from trials import access
from trials.models import ReminderEvent, ReminderRule, Role, VersionStatus

from .models import DOSE_HOLD, EMERGENCY_UNBLINDING

#: The widest gap between UTC's date and any site's date.
ZONE_SLACK = timedelta(days=1)

RulesByVersion = dict[int, list[ReminderRule]]


@dataclass(frozen=True)
class Due:
    """One reminder that is due now, before its recipients are known.

    `event` and `notify` (membership roles) come from the rule; a reminder no rule stands
    for (an instrument alert's route to the investigators) has no rule and names them."""

    rule: ReminderRule | None
    obj: models.Model
    participant: Participant
    due_date: date
    due_at: datetime | None = None
    #: For report deadlines: which report (DeadlineKind).
    detail: str = ""
    event: str = ""
    notify: tuple[str, ...] = ()

    def __post_init__(self):
        if self.rule is not None:
            if not self.event:
                object.__setattr__(self, "event", self.rule.event)
            if not self.notify:
                object.__setattr__(self, "notify", tuple(self.rule.notify))


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def site_today(participant: Participant, now: datetime) -> date:
    """The sweep's `now` as the participant's site sees it (`Site.today`, the one rule)."""
    return participant.site.today(now)


#: What a reminder reads of its participant, site and study (finders, texts, recipients).
PARTICIPANT_FIELDS = (
    "participant__subject_id",
    "participant__screening_number",
    "participant__study_id",
    "participant__site_id",
    "participant__protocol_version_id",
    "participant__site__code",
    "participant__site__timezone",
    "participant__site__study__code",
)


def _lean(candidates: models.QuerySet, *fields: str) -> models.QuerySet:
    """The candidates with their participant, site and study, reading only the columns a
    reminder uses: a sweep builds thousands of these, and the columns it never reads (audit
    times, free text) were most of the cost of building them."""
    return candidates.select_related("participant__site__study").only(*fields, *PARTICIPANT_FIELDS)


VISIT_FIELDS = ("participant_id", "code", "name", "window_start", "window_end", "target_date")
DOSE_FIELDS = ("participant_id", "date", "dose", "unmodified_dose", "unit", "route", "phase")


def _lead(rules: RulesByVersion, field: str) -> Iterable[int]:
    return [getattr(r, field) or 0 for version in rules.values() for r in version]


def visit_window_opens(rules: RulesByVersion, *, now: datetime, lookback: timedelta):
    """A visit's window opens within `before_days` (and has not closed yet)."""
    utc_today = now.date()
    candidates = ScheduledVisit.objects.filter(
        status=VisitStatus.UPCOMING,
        window_start__gte=utc_today - ZONE_SLACK - lookback,
        window_start__lte=utc_today + ZONE_SLACK + timedelta(days=max(_lead(rules, "before_days"))),
        window_end__gte=utc_today - ZONE_SLACK,
        participant__status=ParticipantStatus.ENROLLED,
        participant__protocol_version_id__in=rules,
    )
    for visit in _lean(candidates, *VISIT_FIELDS):
        today = site_today(visit.participant, now)
        for rule in rules[visit.participant.protocol_version_id]:
            opens_soon = visit.window_start <= today + timedelta(days=rule.before_days or 0)
            recent = visit.window_start >= today - lookback
            if opens_soon and recent and visit.window_end >= today:
                yield Due(rule, visit, visit.participant, visit.window_start)


def visit_overdue(rules: RulesByVersion, *, now: datetime, lookback: timedelta):
    """An upcoming visit whose window closed `after_days` ago or more (within look-back)."""
    utc_today = now.date()
    after = _lead(rules, "after_days")
    latest_close = utc_today + ZONE_SLACK - timedelta(days=min(after))
    candidates = ScheduledVisit.objects.filter(
        status=VisitStatus.UPCOMING,
        # window_start <= window_end: bounds the index's leading column to past windows.
        window_start__lte=latest_close,
        window_end__lte=latest_close,
        window_end__gte=utc_today - ZONE_SLACK - lookback - timedelta(days=max(after)),
        participant__status=ParticipantStatus.ENROLLED,
        participant__protocol_version_id__in=rules,
    )
    for visit in _lean(candidates, *VISIT_FIELDS):
        today = site_today(visit.participant, now)
        for rule in rules[visit.participant.protocol_version_id]:
            overdue_from = visit.window_end + timedelta(days=rule.after_days or 0)
            if today - lookback <= overdue_from <= today:
                yield Due(rule, visit, visit.participant, visit.window_end)


def dose_due(rules: RulesByVersion, *, now: datetime, lookback: timedelta):
    """A planned dose falls today or within `before_days` (a dose day past is not nagged)."""
    utc_today = now.date()
    candidates = PlannedDose.objects.filter(
        status=DoseStatus.PLANNED,
        date__gte=utc_today - ZONE_SLACK,
        date__lte=utc_today + ZONE_SLACK + timedelta(days=max(_lead(rules, "before_days"))),
        participant__status=ParticipantStatus.ENROLLED,
        participant__protocol_version_id__in=rules,
    )
    # Whether its amount may be written in the reminder, for every dose in this one query.
    candidates = candidates.annotate(
        amount_reveals_arm=access.amount_reveals_arm_expression("participant__study")
    )
    for dose in _lean(candidates, *DOSE_FIELDS):
        today = site_today(dose.participant, now)
        for rule in rules[dose.participant.protocol_version_id]:
            if today <= dose.date <= today + timedelta(days=rule.before_days or 0):
                yield Due(rule, dose, dose.participant, dose.date)


def sae_report_due(rules: RulesByVersion, *, now: datetime, lookback: timedelta):
    """An expedited report deadline within `before_hours`, not reported yet (or overdue)."""
    hours = timedelta(hours=max(_lead(rules, "before_hours")))
    for kind in DeadlineKind:
        due_field = DEADLINE_FIELDS[kind][0]
        candidates = AdverseEvent.objects.deadline_between(
            kind, now - lookback, now + hours
        ).filter(participant__protocol_version_id__in=rules)
        for ae in candidates.select_related("participant__site__study"):
            due = getattr(ae, due_field)
            local_due = due.astimezone(zone(ae.participant.site.timezone)).date()
            for rule in rules[ae.participant.protocol_version_id]:
                if due - timedelta(hours=rule.before_hours or 0) <= now:
                    yield Due(rule, ae, ae.participant, local_due, due_at=due, detail=kind)


def ae_unreviewed(rules: RulesByVersion, *, now: datetime, lookback: timedelta):
    """An AE still awaiting the investigator's review `after_days` after it was entered."""
    after = _lead(rules, "after_days")
    candidates = (
        AdverseEvent.objects.awaiting_review()
        .filter(
            awaiting_review_since__lte=now - timedelta(days=min(after)),
            awaiting_review_since__gte=now - lookback - timedelta(days=max(after)),
            participant__protocol_version_id__in=rules,
        )
        .select_related("participant__site__study")
    )
    for ae in candidates:
        for rule in rules[ae.participant.protocol_version_id]:
            review_due = ae.awaiting_review_since + timedelta(days=rule.after_days or 0)
            if now - lookback <= review_due <= now:
                local = review_due.astimezone(zone(ae.participant.site.timezone)).date()
                yield Due(rule, ae, ae.participant, local, due_at=review_due)


#: Who receives an instrument alert whatever the protocol's rules say.
ALERT_ROLES = (Role.INVESTIGATOR,)


def instrument_alerts(rules: RulesByVersion, *, now: datetime, lookback: timedelta):
    """A standing instrument alert: notify at once (lead times do not apply).

    Every alert goes to the investigators covering the participant's site, with or without
    a rule; the rules of the participant's version add their roles. One reminder per alert,
    with no rule, so that a person holding two of those roles is told once."""
    candidates = InstrumentAlert.objects.filter(
        code__in=instruments.alert_codes(),
        cleared_at__isnull=True,
        raised_at__gte=now - lookback,
        raised_at__lte=now,
    ).select_related("participant__site__study", "response")
    for alert in candidates:
        local = alert.raised_at.astimezone(zone(alert.participant.site.timezone)).date()
        added = [
            role for r in rules.get(alert.participant.protocol_version_id, []) for role in r.notify
        ]
        yield Due(
            None,
            alert,
            alert.participant,
            local,
            due_at=alert.raised_at,
            event=ReminderEvent.PHQ9_SELF_HARM,
            notify=tuple(dict.fromkeys([*ALERT_ROLES, *added])),
        )


def emergency_unblindings(*, now: datetime, lookback: timedelta):
    """An investigator unblinded a participant: tell the study admins at once."""
    candidates = Unblinding.objects.filter(
        unblinded_at__gte=now - lookback, unblinded_at__lte=now
    ).select_related("participant__site__study", "user")
    for unblinding in candidates:
        participant = unblinding.participant
        local = unblinding.unblinded_at.astimezone(zone(participant.site.timezone)).date()
        yield Due(
            None,
            unblinding,
            participant,
            local,
            due_at=unblinding.unblinded_at,
            event=EMERGENCY_UNBLINDING,
            notify=(Role.STUDY_ADMIN,),
        )


def dose_holds(*, now: datetime, lookback: timedelta):
    """An investigator held or stopped dosing: tell the site's coordinators at once (a
    safety reminder: its kind is not in models.ROUTINE_KINDS, so no digest holds it),
    whatever the protocol's rules, before anyone prepares the next dose. A resume or a
    reduction changes what the dose log says and the dose-day reminders, and needs no notice
    of its own."""
    candidates = DoseModification.objects.filter(
        kind__in=[ModificationKind.HOLD, ModificationKind.STOP],
        decided_at__gte=now - lookback,
        decided_at__lte=now,
    ).select_related("participant__site__study", "decided_by")
    for modification in candidates:
        participant = modification.participant
        local = modification.decided_at.astimezone(zone(participant.site.timezone)).date()
        yield Due(
            None,
            modification,
            participant,
            local,
            due_at=modification.decided_at,
            event=DOSE_HOLD,
            notify=(Role.COORDINATOR,),
        )


FINDERS = {
    ReminderEvent.VISIT_WINDOW_OPENS: visit_window_opens,
    ReminderEvent.VISIT_OVERDUE: visit_overdue,
    ReminderEvent.DOSE_DUE: dose_due,
    ReminderEvent.SAE_REPORT_DUE: sae_report_due,
    ReminderEvent.AE_UNREVIEWED: ae_unreviewed,
}


def rules_by_event() -> dict[str, RulesByVersion]:
    """Every rule of every version participants can be on (drafts have none), in one query."""
    grouped: dict[str, RulesByVersion] = {}
    rules = ReminderRule.objects.exclude(version__status=VersionStatus.DRAFT).order_by(
        "version", "order"
    )
    for rule in rules:
        grouped.setdefault(rule.event, {}).setdefault(rule.version_id, []).append(rule)
    return grouped


def due_now(*, now: datetime, lookback: timedelta) -> Iterator[Due]:
    """Everything due at `now`, event by event: one query per event with rules, and one for
    instrument alerts, which are due whether or not any protocol has a rule for them."""
    grouped = rules_by_event()
    for event, rules in grouped.items():
        finder = FINDERS.get(event)
        if finder is not None:
            yield from finder(rules, now=now, lookback=lookback)
    alert_rules = grouped.get(ReminderEvent.PHQ9_SELF_HARM, {})
    yield from instrument_alerts(alert_rules, now=now, lookback=lookback)
    yield from emergency_unblindings(now=now, lookback=lookback)
    yield from dose_holds(now=now, lookback=lookback)
