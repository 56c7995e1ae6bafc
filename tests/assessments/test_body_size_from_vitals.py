"""A dose by body size follows the baseline visit's VITALS: the coordinator enters the
weight and height, and the planned doses per m² are sized from them, audited with why."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.history import history_for
from tests.assessments.helpers_body_size import visit_record, vitals
from tests.patients.helpers_dosing import member
from trials.models import Role
from trials.protocol_file import ProtocolFileError, parse_protocol
from trials.services import spec_from_version

pytestmark = pytest.mark.django_db


def first_planned(participant):
    return participant.doses.order_by("date").first()


def test_baseline_vitals_size_the_doses_per_m2(gvhd):
    _version, participant, coordinator = gvhd

    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")

    # √(170 × 63.3 / 3600) = 1.7289 → 1.73 m²; 1 MIU/m² × 1.73 m² = 1.73 → 1.7 MIU.
    dose = first_planned(participant)
    assert dose.dose == Decimal("1.7")
    assert dose.derivation == "1 MIU/m² × 1.73 m² = 1.7 MIU (rounded to 0.1 MIU)"
    assert history_for(dose)[-1].reason == "Dose by body size from VITALS at W0"


def test_a_corrected_baseline_weight_resizes_the_doses_still_planned(gvhd):
    _version, participant, coordinator = gvhd
    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")

    vitals(participant, coordinator, "W0", WEIGHT="80.0", HEIGHT="170")

    # √(170 × 80 / 3600) = 1.9437 → 1.94 m² → 1.94 MIU → 1.9 MIU.
    assert first_planned(participant).dose == Decimal("1.9")


def test_vitals_after_baseline_do_not_resize(gvhd):
    _version, participant, coordinator = gvhd
    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")

    vitals(participant, coordinator, "W4", WEIGHT="90.0", HEIGHT="170")

    assert first_planned(participant).dose == Decimal("1.7")


def test_a_weight_giving_no_deliverable_dose_is_refused_on_the_weight(gvhd):
    version, participant, coordinator = gvhd
    participant.doses.update(dose_per_size=Decimal("0.001"))

    with pytest.raises(ValidationError) as refused:
        vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")

    assert "WEIGHT" in refused.value.message_dict
    assert visit_record(participant.visits.get(code="W0")) is None  # nothing half-saved


def test_a_protocol_dosing_by_body_size_must_collect_the_baseline_weight_and_height(gvhd):
    version, _participant, _coordinator = gvhd
    from trials.protocol_file import dump_protocol

    text = dump_protocol(spec_from_version(version))
    without_height = text.replace("HEIGHT", "HEIGHT_CM")

    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(without_height)

    assert "a dose by body size needs the form VITALS" in str(refused.value)
    assert "HEIGHT" in str(refused.value)


def test_a_coordinator_of_another_study_cannot_size_doses(gvhd):
    version, participant, _coordinator = gvhd
    stranger = member(version.study, "ivo", Role.MONITOR)

    with pytest.raises(Exception) as refused:
        vitals(participant, stranger, "W0", WEIGHT="63.3", HEIGHT="170")

    assert refused.type.__name__ == "PermissionDenied"
    assert first_planned(participant).dose is None
