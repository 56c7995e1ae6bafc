"""Template helpers for pages that show adverse events.

The participant page (patients) includes the AE panel without knowing safety, so the panel
asks here what it needs rather than getting it from that page's view.

`ae_deadlines` writes an event's report countdowns in Python: the review queue shows them on
every row, and as an included template they were half of the queue's rendering (an include,
a time-zone block, a loop and three translation tags per row). It writes what that template
wrote, with the same messages (extracted from here by makemessages, same catalogue entries).
"""

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext

from core.times import site_time, zone_of
from safety.clocks import DeadlineState
from safety.services import can_enter, review_signatures

register = template.Library()


@register.simple_tag
def adverse_events_of(participant) -> list:
    """The participant's adverse events, each knowing whether it is still validly reviewed.

    The review state comes from the signatures (one query for all rows), so the panel does
    not ask the database once per event.
    """
    adverse_events = list(participant.adverse_events.select_related("participant__site"))
    review_signatures(adverse_events)
    return adverse_events


@register.simple_tag(takes_context=True)
def may_report_adverse_event(context, participant) -> bool:
    """Whether the page's user may report an AE for this participant (safety's own rule)."""
    return can_enter(context["user"], participant)


def _interpolated(message: str, **values) -> SafeString:
    """A translated message with its values escaped and the message itself not, as
    `{% blocktranslate %}` does (a translation is trusted text, a value is not)."""
    return mark_safe(message % {k: conditional_escape(v) for k, v in values.items()})


def _deadline_item(deadline, zone) -> SafeString:
    state = deadline.state
    if state == DeadlineState.PENDING:
        left = timeuntil(deadline.due)
        outcome = format_html(
            '<span class="badge text-bg-warning">{}</span>',
            _interpolated(gettext("due in %(left)s"), left=left),
        )
    elif state == DeadlineState.OVERDUE:
        late = timesince(deadline.due)
        outcome = format_html(
            '<span class="badge text-bg-danger">{}</span>',
            _interpolated(gettext("overdue by %(late)s"), late=late),
        )
    else:
        met = state == DeadlineState.MET
        outcome = format_html(
            '<span class="badge text-bg-{}">{}</span>\n{}',
            "success" if met else "danger",
            gettext("met") if met else gettext("missed"),
            _interpolated(gettext("reported %(at)s"), at=site_time(deadline.reported_at, zone)),
        )
    return format_html(
        '<li class="ae-deadline ae-deadline-{}">\n<span class="fw-semibold">{}</span>:\n{}\n'
        '<small class="text-muted">({} {})</small>\n</li>\n',
        state,
        deadline.label,
        outcome,
        gettext("due"),
        site_time(deadline.due, zone),
    )


@register.simple_tag
def ae_deadlines(ae, deadlines=None) -> SafeString:
    """The event's expedited-report deadlines as a list of countdowns (`ae.current_deadlines`
    unless given), each time read in the time zone of the participant's site."""
    if deadlines is None:
        deadlines = ae.current_deadlines
    if not deadlines:
        items = format_html(
            '<li class="text-muted">{}</li>\n', gettext("No expedited report required.")
        )
    else:
        zone = zone_of(ae.participant.site)
        items = mark_safe("".join(_deadline_item(d, zone) for d in deadlines))
    return format_html('\n<ul class="list-unstyled mb-0 ae-deadlines">\n{}</ul>\n', items)
