"""Allocation-bearing audit trails are closed to users blinded in the study.

The arms' own trail (names, placebo flag), the randomisation lists and slots, and the
emergency unblinding records all tell who gets what; a blinded user gets 404 on each, as
page and as API, while an unblinded study admin still reads the arms' trail.
"""

import pytest
from django.urls import reverse

from patients import services
from patients.models import RandomisationList, RandomisationSlot
from tests.factories import PASSWORD
from tests.patients.journey_helpers import enrolled_in_mood
from trials.models import Arm


@pytest.fixture
def mood(db):
    team = enrolled_in_mood()
    unblinding = services.emergency_unblind(
        participant=team["participant"],
        user=team["investigator"],
        password=PASSWORD,
        reason="Anaphylaxis",
    )
    return team | {"unblinding": unblinding}


def trail_urls(label: str, pk) -> list[str]:
    return [
        reverse("record-history", args=[label, pk]),
        reverse("api-record-history", args=[label, pk]),
    ]


def test_a_blinded_user_cannot_read_the_arms_trail_as_page_or_api(mood, client_for):
    arm = Arm.objects.filter(version__study=mood["study"]).first()
    for user in (mood["coordinator"], mood["investigator"]):
        client = client_for(user)
        for url in trail_urls("trials.arm", arm.pk):
            assert client.get(url).status_code == 404, (user, url)


def test_an_unblinded_study_admin_still_reads_the_arms_trail(mood, client_for):
    arm = Arm.objects.filter(version__study=mood["study"]).first()
    client = client_for(mood["admin"])
    for url in trail_urls("trials.arm", arm.pk):
        assert client.get(url).status_code == 200, url


def test_a_blinded_user_cannot_read_randomisation_or_unblinding_trails(mood, client_for):
    allocation_list = RandomisationList.objects.filter(study=mood["study"]).first()
    slot = RandomisationSlot.objects.filter(allocation_list=allocation_list).first()
    records = [
        ("patients.randomisationlist", allocation_list.pk),
        ("patients.randomisationslot", slot.pk),
        ("patients.unblinding", mood["unblinding"].pk),
    ]
    for user in (mood["coordinator"], mood["investigator"]):
        client = client_for(user)
        for label, pk in records:
            for url in trail_urls(label, pk):
                assert client.get(url).status_code == 404, (user, url)


def test_a_blinded_user_still_reads_the_participant_trail_without_the_arm(mood, client_for):
    participant = mood["unblinding"].participant
    client = client_for(mood["coordinator"])
    response = client.get(
        reverse("api-record-history", args=["patients.participant", participant.pk])
    )

    assert response.status_code == 200
    fields = {change["field"] for entry in response.json() for change in entry["changes"]}
    assert "arm" not in fields and "arm_id" not in fields
