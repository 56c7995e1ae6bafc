"""Randomisation continues across protocol amendments: one list per stratum code."""

from datetime import date

import pytest

from patients import services
from patients.models import RandomisationList
from patients.randomisation import ListsAlreadyExist, generate_lists
from tests.factories import PROTOCOL_DIR
from tests.patients.journey_helpers import (
    MOOD_YES,
    eligible_and_confirmed,
    mood_study,
    screened,
    staff,
)
from trials.models import Role
from trials.protocol_file import parse_protocol
from trials.services import activate_version, load_protocol


def amend_mood(extra_stratum: bool = False):
    text = (PROTOCOL_DIR / "ld-il2-mood.yaml").read_text()
    text = text.replace('label: "1.0"', 'label: "2.0"')
    assert 'label: "2.0"' in text
    if extra_stratum:
        bipolar = '  - {code: BD, name: "Bipolar disorder"}'
        psychotic = '  - {code: PSY, name: "Psychotic depression"}'
        text = text.replace(bipolar, f"{bipolar}\n{psychotic}")
        assert "PSY" in text
    version, _ = load_protocol(parse_protocol(text))
    return activate_version(version)


@pytest.fixture
def mood(db):
    study = mood_study()
    return {
        "study": study,
        "coordinator": staff(study, "carla", Role.COORDINATOR),
        "investigator": staff(study, "ines", Role.INVESTIGATOR),
    }


def enrol(mood, number, stratum):
    participant = screened(mood["study"], mood["coordinator"], number, stratum=stratum)
    eligible_and_confirmed(participant, mood["coordinator"], mood["investigator"], MOOD_YES)
    return services.enrol(
        participant=participant,
        baseline_date=date(2026, 1, 5),
        consent_date=date(2026, 1, 5),
        user=mood["coordinator"],
    )


def test_after_an_amendment_enrolment_continues_the_same_list_with_the_new_versions_arms(mood):
    first = enrol(mood, "S-1", "MDD")
    new = amend_mood()
    second = enrol(mood, "S-2", "MDD")
    assert second.protocol_version == new
    assert second.arm.version == new
    lists = RandomisationList.objects.filter(study=mood["study"], stratum__code="MDD")
    assert lists.count() == 1
    sequences = sorted(
        p.randomisation_slot.sequence for p in (first, second) if p.randomisation_slot
    )
    assert sequences == [1, 2]


def test_an_amendment_adding_a_stratum_gets_a_list_for_it_only(mood):
    amend_mood(extra_stratum=True)
    version = mood["study"].versions.get(status="active")
    created = generate_lists(version=version, seed="amend")
    assert [lst.stratum.code for lst in created] == ["PSY"]
    with pytest.raises(ListsAlreadyExist):
        generate_lists(version=version, seed="again")
