"""The words of each reminder, written once when the reminder is recorded.

The text is stored with the notification, so the e-mail and the inbox say the same thing
and a later edit of the record cannot change a reminder already sent. Texts name the
study, site, participant (subject id), visit, dates and deadlines, and never a treatment
arm nor the study drug (a drug label may say "or matching placebo"), so any recipient may
read any reminder whatever their blinding. Clinical detail (the AE term, the answers)
stays in the application behind its access rules: an e-mail carries the link instead.
Dates and times are the site's, named with its time zone.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments import instruments
from core.times import site_time
from safety.models import DeadlineKind
from trials.models import ReminderEvent

from . import conf
from .models import EMERGENCY_UNBLINDING, KIND_CHOICES
from .reminders import Due, zone


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    label: str
    link: str


def _when(moment: datetime, tz_name: str) -> str:
    return site_time(moment, zone(tz_name))


def _visit(due: Due, values: dict) -> tuple[str, str, str]:
    visit = due.obj
    values.update(
        visit=visit.code,
        name=visit.name,
        start=visit.window_start.isoformat(),
        end=visit.window_end.isoformat(),
        target=visit.target_date.isoformat(),
    )
    label = f"{values['subject']} · {visit.code}"
    if due.event == ReminderEvent.VISIT_WINDOW_OPENS:
        subject = _("[%(study)s] Visit %(visit)s for %(subject)s: window opens %(start)s")
        body = _(
            "The window of visit %(visit)s (%(name)s) for participant %(subject)s at site "
            "%(site)s opens on %(start)s and closes on %(end)s; the target date is %(target)s."
        )
    else:
        subject = _("[%(study)s] Visit %(visit)s for %(subject)s is overdue")
        body = _(
            "Visit %(visit)s (%(name)s) for participant %(subject)s at site %(site)s was due "
            "between %(start)s and %(end)s and is not recorded. Record the visit, or record "
            "it as missed."
        )
    return subject % values, body % values, label


def _dose(due: Due, values: dict) -> tuple[str, str, str]:
    dose = due.obj
    values.update(
        date=dose.date.isoformat(),
        dose=f"{dose.dose.normalize():f}",
        unit=dose.unit,
        route=dose.route,
        phase=dose.phase,
    )
    subject = _("[%(study)s] Dose due %(date)s for %(subject)s")
    body = _(
        "A dose of %(dose)s %(unit)s %(route)s (%(phase)s) is planned for participant "
        "%(subject)s at site %(site)s on %(date)s. Record it in the dose log once given or "
        "not given."
    )
    label = _("%(subject)s · dose %(date)s") % values
    return subject % values, body % values, label


def _ae_label(due: Due, values: dict) -> str:
    return _("%(subject)s · AE %(id)s") % {**values, "id": due.obj.pk}


def _report(due: Due, values: dict) -> tuple[str, str, str]:
    values.update(report=DeadlineKind(due.detail).label, when=_when(due.due_at, values["tz"]))
    subject = _("[%(study)s] %(report)s due %(when)s for %(subject)s")
    body = _(
        "%(report)s: the expedited report of a serious adverse event of participant "
        "%(subject)s at site %(site)s is due by %(when)s and is not recorded as sent."
    )
    return subject % values, body % values, _ae_label(due, values)


def _review(due: Due, values: dict) -> tuple[str, str, str]:
    values.update(since=_when(due.obj.awaiting_review_since, values["tz"]))
    subject = _("[%(study)s] An adverse event of %(subject)s awaits review")
    body = _(
        "An adverse event of participant %(subject)s at site %(site)s has awaited the "
        "investigator's review and signature since %(since)s."
    )
    return subject % values, body % values, _ae_label(due, values)


def _self_harm(due: Due, values: dict) -> tuple[str, str, str]:
    alert = due.obj
    declared = instruments.get(alert.response.instrument).item_alert(alert.code)
    finding = declared.finding if declared else alert.code
    values.update(when=_when(due.due_at, values["tz"]), finding=finding)
    subject = _("[%(study)s] URGENT: suicidality alert for %(subject)s")
    body = _(
        "Participant %(subject)s at site %(site)s reported %(finding)s, recorded at "
        "%(when)s. Assess the participant without delay."
    )
    return subject % values, body % values, _("%(subject)s · suicidality alert") % values


def _unblinding(due: Due, values: dict) -> tuple[str, str, str]:
    unblinding = due.obj
    values.update(
        who=unblinding.user.get_full_name() or unblinding.user.get_username(),
        when=_when(unblinding.unblinded_at, values["tz"]),
        reason=unblinding.reason,
    )
    subject = _("[%(study)s] Emergency unblinding of %(subject)s")
    body = _(
        "%(who)s unblinded participant %(subject)s at site %(site)s on %(when)s.\n\n"
        "Reason: %(reason)s"
    )
    return subject % values, body % values, _("%(subject)s · unblinded") % values


COMPOSERS = {
    ReminderEvent.VISIT_WINDOW_OPENS: _visit,
    ReminderEvent.VISIT_OVERDUE: _visit,
    ReminderEvent.DOSE_DUE: _dose,
    ReminderEvent.SAE_REPORT_DUE: _report,
    ReminderEvent.AE_UNREVIEWED: _review,
    ReminderEvent.PHQ9_SELF_HARM: _self_harm,
    EMERGENCY_UNBLINDING: _unblinding,
}


def link_for(due: Due) -> str:
    if due.event in (ReminderEvent.SAE_REPORT_DUE, ReminderEvent.AE_UNREVIEWED):
        return due.obj.get_absolute_url()
    return reverse("patients:participant", args=[due.participant.pk])


def compose(due: Due, *, language: str) -> Message:
    (message,) = compose_each([due], language=language)
    return message


def compose_each(dues: Iterable[Due], *, language: str) -> list[Message]:
    """The words of many reminders in one language (a sweep writes thousands: switching the
    language once for all of them, not once each, is part of what keeps it fast)."""
    site_url = conf.site_url()
    messages = []
    with translation.override(language):
        signature = _("An automatic reminder from il2-ecrf.")
        for due in dues:
            participant = due.participant
            site = participant.site
            values = {
                "study": site.study.code,
                "site": site.code,
                "tz": site.timezone,
                "subject": participant.subject_id or participant.screening_number,
            }
            link = link_for(due)
            subject, body, label = COMPOSERS[due.event](due, values)
            footer = _("Open: %(url)s") % {"url": site_url + link}
            body = f"{body}\n\n{footer}\n\n-- \n{signature}"
            messages.append(Message(subject=subject[:255], body=body, label=label[:200], link=link))
    return messages


# Digests ----------------------------------------------------------------------------------

KIND_LABELS = dict(KIND_CHOICES)


@dataclass(frozen=True)
class DigestLine:
    """What a digest shows of one notification (read as plain values: a digest may list
    hundreds, and building model instances for them was most of a digest's cost)."""

    pk: int
    kind: str
    subject: str
    link: str
    due_date: date
    site: str
    tz: str
    who: str


def compose_digest(*, study_code: str, day: date, rows: list[DigestLine], language: str):
    """One e-mail for a recipient's routine reminders of one study and day: counts per kind,
    then the reminders grouped per site and participant, each site's time zone named.

    Each line is the reminder's stored subject without the study code the digest's subject
    carries once, so the digest says what the inbox says and inherits its guarantees (no
    arm, no study drug, the site's dates). Returns (subject, body)."""
    prefix = f"[{study_code}] "
    counts: dict[str, int] = {}
    groups: dict[tuple, list[DigestLine]] = {}
    for row in rows:
        counts[row.kind] = counts.get(row.kind, 0) + 1
        groups.setdefault((row.site, row.tz, row.who), []).append(row)
    with translation.override(language):
        values = {"study": study_code, "day": day.isoformat(), "count": len(rows)}
        subject = (
            ngettext(
                "[%(study)s] %(count)d reminder for %(day)s",
                "[%(study)s] %(count)d reminders for %(day)s",
                len(rows),
            )
            % values
        )
        lines = [_("Your reminders for study %(study)s on %(day)s:") % values, ""]
        lines += [f"- {KIND_LABELS[kind]}: {counts[kind]}" for kind in sorted(counts)]
        # Translated once, not once per line: a digest may list hundreds of reminders.
        heading = _("%(subject)s, site %(site)s (%(tz)s): %(count)d")
        open_url = _("Open: %(url)s")
        site_url = conf.site_url()
        for (site, tz, who), items in sorted(groups.items()):
            lines += ["", heading % {"subject": who, "site": site, "tz": tz, "count": len(items)}]
            links = []
            for row in sorted(items, key=lambda r: (r.due_date, r.kind, r.pk)):
                lines.append(f"  - {row.subject.removeprefix(prefix)}")
                if row.link and row.link not in links:
                    links.append(row.link)
            lines += [f"    {open_url % {'url': site_url + link}}" for link in links]
        inbox = conf.site_url() + reverse("notifications:inbox")
        lines += ["", _("All your reminders: %(url)s") % {"url": inbox}]
        lines += ["", "-- ", _("A daily summary of reminders from il2-ecrf.")]
    return subject[:255], "\n".join(lines)
