"""`resize: each_cycle`: each cycle's doses by body size follow the weight and height of the
visit on the cycle's first day (or the latest VITALS before it), not only the baseline's."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from audit.history import history_for
from patients.models import DoseStatus
from tests.assessments.helpers_body_size import vitals
from tests.factories import enrolled_participant
from tests.patients.helpers_dosing import MONDAY, member
from trials.models import Role, Study
from trials.protocol_file import ProtocolFileError, ProtocolProblem, dump_protocol, parse_protocol

pytestmark = pytest.mark.django_db

PROTOCOLS = Path(__file__).resolve().parents[2] / "trials" / "protocols"
DAILY = "every_days: 1}"
# Two cycles of 2 weeks daily then 2 weeks of rest in weeks 1-8: days 1-14 and 29-42.
IN_CYCLES = "every_days: 1,\n       cycles: {count: 2, dosing_weeks: 2, rest_weeks: 2}"


def gvhd_text(phase_end: str = IN_CYCLES + ", resize: each_cycle}") -> str:
    text = (PROTOCOLS / "ld-il2-gvhd.yaml").read_text(encoding="utf-8")
    assert text.count(DAILY) == 3
    return text.replace(DAILY, phase_end)


def load(tmp_path, text: str):
    path = tmp_path / "gvhd-cycles.yaml"
    path.write_text(text, encoding="utf-8")
    call_command("load_protocol", str(path), "--activate")
    version = Study.objects.get(code="LDIL2-GVHD").versions.get(status="active")
    participant = enrolled_participant(
        baseline=MONDAY, version=version, arm=version.arms.get(code="C1")
    )
    return participant, member(version.study, "cora", Role.COORDINATOR)


def amounts(participant) -> dict[int, set]:
    """The planned amounts by cycle (1: days 1-14, 2: days 29-42)."""
    by_cycle: dict[int, set] = {1: set(), 2: set()}
    for dose in participant.doses.all():
        by_cycle[1 if dose.study_day <= 14 else 2].add(dose.dose)
    return by_cycle


def test_each_cycle_is_sized_from_the_weight_at_its_first_visit(tmp_path):
    participant, coordinator = load(tmp_path, gvhd_text())

    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")
    # √(170 × 63.3 / 3600) = 1.7289 → 1.73 m²; 1 MIU/m² × 1.73 m² → 1.7 MIU, both cycles.
    assert amounts(participant) == {1: {Decimal("1.7")}, 2: {Decimal("1.7")}}

    vitals(participant, coordinator, "W4", WEIGHT="80.0", HEIGHT="170")  # day 29: cycle 2

    # √(170 × 80 / 3600) = 1.9437 → 1.94 m² → 1.9 MIU from cycle 2 on; cycle 1 unchanged.
    assert amounts(participant) == {1: {Decimal("1.7")}, 2: {Decimal("1.9")}}
    dose = participant.doses.get(study_day=29)
    assert dose.derivation == "1 MIU/m² × 1.94 m² = 1.9 MIU (rounded to 0.1 MIU)"
    assert history_for(dose)[-1].reason == "Dose by body size from VITALS at W4"
    assert history_for(participant.doses.get(study_day=1))[-1].reason == (
        "Dose by body size from VITALS at W0"
    )


def test_doses_already_given_keep_their_amount(tmp_path):
    participant, coordinator = load(tmp_path, gvhd_text())
    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")
    participant.doses.filter(study_day=29).update(status=DoseStatus.GIVEN)

    vitals(participant, coordinator, "W4", WEIGHT="80.0", HEIGHT="170")

    assert participant.doses.get(study_day=29).dose == Decimal("1.7")
    assert participant.doses.get(study_day=30).dose == Decimal("1.9")


def test_a_corrected_baseline_weight_resizes_only_the_cycles_it_sizes(tmp_path):
    participant, coordinator = load(tmp_path, gvhd_text())
    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")
    vitals(participant, coordinator, "W4", WEIGHT="80.0", HEIGHT="170")

    vitals(participant, coordinator, "W0", WEIGHT="50.0", HEIGHT="170")

    # √(170 × 50 / 3600) = 1.5366 → 1.54 m² → 1.5 MIU in cycle 1; cycle 2 keeps W4's 1.9.
    assert amounts(participant) == {1: {Decimal("1.5")}, 2: {Decimal("1.9")}}


def test_without_a_visit_on_the_cycle_s_first_day_the_latest_vitals_before_it_sizes(tmp_path):
    text = gvhd_text().replace(
        "{code: W4, name: Week 4,   day: 29,", "{code: W3, name: Week 3, day: 22,"
    )
    participant, coordinator = load(tmp_path, text)
    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")

    vitals(participant, coordinator, "W3", WEIGHT="80.0", HEIGHT="170")  # day 22

    assert amounts(participant) == {1: {Decimal("1.7")}, 2: {Decimal("1.9")}}


def test_without_resize_the_baseline_sizes_every_cycle(tmp_path):
    participant, coordinator = load(tmp_path, gvhd_text(IN_CYCLES + "}"))
    vitals(participant, coordinator, "W0", WEIGHT="63.3", HEIGHT="170")

    vitals(participant, coordinator, "W4", WEIGHT="80.0", HEIGHT="170")

    assert amounts(participant) == {1: {Decimal("1.7")}, 2: {Decimal("1.7")}}


# -- the file ----------------------------------------------------------------------------------


def problems(text: str) -> list[ProtocolProblem]:
    with pytest.raises(ProtocolFileError) as refused:
        parse_protocol(text)
    return refused.value.errors


def test_resize_reads_back_as_written():
    spec = parse_protocol(gvhd_text())

    assert {phase.resize for phase in spec.dosing.phases} == {"each_cycle"}
    assert parse_protocol(dump_protocol(spec)) == spec
    assert "resize: each_cycle}" in dump_protocol(spec)


def test_resize_without_cycles_is_refused_on_its_line():
    text = gvhd_text("every_days: 1, resize: each_cycle}")
    lines = [i for i, line in enumerate(text.splitlines(), 1) if "resize" in line]

    assert problems(text) == [
        ProtocolProblem(
            line,
            f"dosing.phases[{i}].resize",
            "'resize: each_cycle' needs a phase in cycles ('cycles')",
        )
        for i, line in enumerate(lines)
    ]


def test_resize_without_a_dose_by_body_size_is_refused_on_its_line():
    text = gvhd_text().replace("per: m2,\n       round_to: 0.1,", "")
    lines = [i for i, line in enumerate(text.splitlines(), 1) if "resize" in line]

    found = [p for p in problems(text) if p.path.endswith("resize")]
    assert found == [
        ProtocolProblem(
            line,
            f"dosing.phases[{i}].resize",
            "'resize' applies only to a dose by body size (per: kg or per: m2)",
        )
        for i, line in enumerate(lines)
    ]
