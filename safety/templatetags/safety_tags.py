"""Template helpers for pages of other apps that show adverse events.

The participant page (patients) includes the AE panel without knowing safety, so the panel
asks here what it needs rather than getting it from that page's view.
"""

from django import template

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
