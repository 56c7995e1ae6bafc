"""Each acting() block's changes carry that block's user and reason, even when several
blocks share one transaction or sit inside an outer block."""

import pghistory
from django.core.management import call_command
from django.db import transaction
from pghistory.models import Events

from audit.history import history_for
from audit.tracking import acting
from trials.models import Membership


def test_two_acting_blocks_in_one_transaction_keep_their_own_user_and_reason(
    sam, ivan, study, site_a
):
    # pghistory's request middleware opens a context for the whole request, as here.
    with transaction.atomic(), pghistory.context(url="/studies/1/"):
        with acting(sam, "Sponsor renamed the study"):
            study.title = "Low-dose IL-2 in RP"
            study.save()
        with acting(ivan, "Site moved"):
            site_a.name = "Site A (new building)"
            site_a.save()
    study_change, site_change = history_for(study)[-1], history_for(site_a)[-1]
    assert (study_change.user, study_change.reason) == ("sam", "Sponsor renamed the study")
    assert (site_change.user, site_change.reason) == ("ivan", "Site moved")


def test_a_nested_block_does_not_rewrite_the_outer_blocks_changes(sam, ivan, study, site_a):
    with transaction.atomic(), acting(sam, "Outer reason"):
        study.title = "Before the inner block"
        study.save()
        with acting(ivan, "Inner reason"):
            site_a.name = "Changed inside"
            site_a.save()
        study.sponsor = "After the inner block"
        study.save()
    first, second = history_for(study)[-2:]
    assert (first.user, first.reason) == ("sam", "Outer reason")
    assert (second.user, second.reason) == ("sam", "Outer reason")
    inner = history_for(site_a)[-1]
    assert (inner.user, inner.reason) == ("ivan", "Inner reason")


def test_a_block_without_a_user_keeps_the_outer_user(sam, study):
    with acting(sam, "Outer"), acting(None, "Typo"):
        study.phase = "2b"
        study.save()
    last = history_for(study)[-1]
    assert (last.user, last.reason) == ("sam", "Typo")


def test_seed_demo_memberships_carry_seed_demo_not_a_later_eligibility_reason(db):
    call_command("seed_demo")
    membership = Membership.objects.get(user__username="coordinator", study__code="LDIL2-RP")
    insert = Events.objects.get(
        pgh_obj_model="trials.Membership", pgh_obj_id=str(membership.pk), pgh_label="insert"
    )
    assert insert.pgh_context["reason"] == "seed_demo"
