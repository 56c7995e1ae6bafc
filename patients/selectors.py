"""Reads about participants that every page, API endpoint and export shares."""

from django.http import Http404
from django.utils.translation import gettext as _

from trials import access

from .models import Participant, Unblinding


def get_participant_or_404(user, pk, *, participants=None) -> Participant:
    """The participant if the user may see them (study and site), else 404. `participants`
    (a queryset of them) adds what a page reads with the participant (annotations)."""
    participant = (
        (Participant.objects.all() if participants is None else participants)
        .visible_to(user)
        .select_related("study", "site", "protocol_version", "arm", "stratum")
        .filter(pk=pk)
        .first()
    )
    if participant is None:
        raise Http404(_("No such participant."))
    return participant


def may_see_arm(user, participant: Participant) -> bool:
    """Unblinded users see the arm; a blinded one only after an emergency unblinding."""
    if not access.is_blinded(user, participant.study):
        return True
    return Unblinding.objects.filter(participant=participant, user=user).exists()


def can_see_values(user, participant: Participant, form_code: str) -> bool:
    """Whether the user may enter or read the values of this form for this participant.

    A protocol's `blinded_results` (e.g. the Treg panel under low-dose IL-2 against
    placebo) tell the arm to whoever reads them: they are for those who may see the arm
    (`may_see_arm`: unblinded in the study, or told by an emergency unblinding). Everyone
    else sees that the form is done, never its values. The one check of every read point:
    visit and form pages, the participant page's plots, the API, the record trail."""
    if form_code not in participant.protocol_version.blinded_results:
        return True
    return may_see_arm(user, participant)


def hidden_result_codes(user, participant: Participant) -> frozenset[str]:
    """The forms whose values this user may not see for this participant (`can_see_values`
    for every form at once: a page of many visits asks once)."""
    blinded = participant.protocol_version.blinded_results
    if not blinded or may_see_arm(user, participant):
        return frozenset()
    return frozenset(blinded)


def may_see_dose_amounts(user, participant: Participant) -> bool:
    """Whether a dose amount that is not the protocol's for every arm (a reduction) may be
    shown: it can tell the arm when the arms differ in amount, so only to whoever may see
    the arm. Pages write amounts through `capture_tags.dose_amount`, which asks this."""
    return may_see_arm(user, participant)


def may_see_amount_of(user, participant: Participant, dose) -> bool:
    """Whether this one planned dose's amount (and so what was given) may be shown: not
    where the study's arms differ in amount (`trials.access.dose_amount_hidden`), nor a
    reduction to a reader who may not see the arm (`may_see_dose_amounts`)."""
    if access.dose_amount_hidden(user, participant.study):
        return False
    return dose.unmodified_dose is None or may_see_dose_amounts(user, participant)


def arm_display(user, participant: Participant) -> str:
    """What to show where the arm goes: its name, "Blinded", or "Not allocated"."""
    if not may_see_arm(user, participant):
        return _("Blinded")
    if participant.arm_id is None:
        return _("Not allocated")
    return participant.arm.name
