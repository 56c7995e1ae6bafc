"""Importing, exporting and amending protocols through the database."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.factories import PROTOCOL_DIR, load_demo_protocol
from trials.models import ProtocolVersion, Site, Study, VersionStatus
from trials.protocol_file import dump_protocol, parse_protocol
from trials.services import ProtocolConflict, activate_version, load_protocol, spec_from_version

RP_TEXT = (PROTOCOL_DIR / "ld-il2-rp.yaml").read_text()


def test_the_rp_file_loads_as_the_design_describes(db):
    version = load_demo_protocol()
    assert version.study.code == "LDIL2-RP"
    assert version.status == VersionStatus.ACTIVE
    assert [c.code for c in version.criteria.all()] == ["I1", "I2", "I3", "I4", "E1"]
    assert version.criteria.get(code="I4").min_value == Decimal("18")
    phases = list(version.dosing_phases.order_by("order"))
    assert [(p.name, p.start_week, p.end_week, p.days_per_week) for p in phases] == [
        ("induction", 1, 4, 5),
        ("maintenance", 5, 12, 1),
    ]
    assert [(v.code, v.study_day, v.window_minus, v.window_plus) for v in version.visits.all()] == [
        ("W0", 1, 0, 0),
        ("W4", 29, -3, 3),
        ("W8", 57, -3, 3),
        ("W12", 85, -3, 3),
    ]
    assert version.reminder_rules.count() == 5
    assert Site.objects.get(study=version.study).timezone == "Asia/Shanghai"


@pytest.mark.parametrize("name", ["ld-il2-rp.yaml", "ld-il2-mood.yaml"])
def test_export_then_import_gives_the_same_protocol(db, name):
    version = load_demo_protocol(name)
    exported = dump_protocol(spec_from_version(version))
    assert parse_protocol(exported) == parse_protocol((PROTOCOL_DIR / name).read_text())


def test_loading_the_same_file_twice_changes_nothing(db):
    first = load_demo_protocol()
    again, created = load_protocol(parse_protocol(RP_TEXT))
    assert again == first
    assert not created
    assert ProtocolVersion.objects.count() == 1


def test_a_changed_file_becomes_a_new_draft_and_activation_is_explicit(db):
    first = load_demo_protocol()
    amended = (
        RP_TEXT.replace('label: "1.0"', 'label: "2.0"')
        .replace("effective: 2019-11-01", "effective: 2020-03-01")
        .replace(
            "window: [-3, 3], forms: [RPDAI, TREG, STEROID, VITALS, AE]}\n  - {code: W12",
            "window: [-5, 5], forms: [RPDAI, TREG, STEROID, VITALS, AE]}\n  - {code: W12",
        )
    )
    version, created = load_protocol(parse_protocol(amended))
    assert created
    assert version.status == VersionStatus.DRAFT
    first.refresh_from_db()
    assert first.status == VersionStatus.ACTIVE
    activate_version(version)
    first.refresh_from_db()
    assert first.status == VersionStatus.RETIRED
    assert version.visits.get(code="W8").window_minus == -5


def test_a_reused_label_with_different_content_is_refused(db):
    load_demo_protocol()
    changed = RP_TEXT.replace("window: [-3, 3]", "window: [-4, 4]")
    with pytest.raises(ProtocolConflict, match="already exists with different content"):
        load_protocol(parse_protocol(changed))


def test_the_command_refuses_a_bad_file_with_line_and_reason_and_imports_nothing(db, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(RP_TEXT.replace("ratio: 1}", "ratio: 0}"))
    with pytest.raises(CommandError) as excinfo:
        call_command("load_protocol", str(bad))
    message = str(excinfo.value)
    assert "Nothing was imported" in message
    assert f"{bad}:7:" in message
    assert not Study.objects.exists()


def test_the_commands_round_trip_a_protocol(db, tmp_path, capsys):
    call_command("load_protocol", str(PROTOCOL_DIR / "ld-il2-rp.yaml"), "--activate")
    capsys.readouterr()
    call_command("export_protocol", "LDIL2-RP")
    out = capsys.readouterr().out
    assert parse_protocol(out) == parse_protocol(RP_TEXT)
    path = tmp_path / "again.yaml"
    path.write_text(out)
    call_command("load_protocol", str(path))
    assert "Nothing to do" in capsys.readouterr().out


def test_an_unreadable_file_is_reported(db):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_protocol", str(Path("/nonexistent/protocol.yaml")))
