"""Template helpers for pages of other apps that show adverse events."""

from django import template

from safety.services import review_signatures

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
