"""The protocol's invariants are database rules, tested both ways (full_clean and create)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from tests.factories import StudyFactory, load_demo_protocol
from trials.models import Arm, DosingPhase, ProtocolVersion, VisitDefinition


@pytest.fixture
def draft(db):
    return ProtocolVersion.objects.create(
        study=StudyFactory(), label="0.1", effective_date="2026-01-01"
    )


def phase(version, name, start, end, **kwargs):
    fields = {"dose": Decimal("1"), "days_per_week": 5} | kwargs
    return DosingPhase(version=version, name=name, start_week=start, end_week=end, **fields)


def test_a_window_that_misses_its_day_is_refused(draft):
    visit = VisitDefinition(version=draft, code="W4", name="W4", study_day=29, window_minus=2)
    with pytest.raises(ValidationError, match="visit_window_contains_its_day"):
        visit.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        visit.save()


def test_a_window_that_contains_its_day_is_accepted(draft):
    VisitDefinition(
        version=draft, code="W4", name="W4", study_day=29, window_minus=-3, window_plus=3
    ).save()


def test_study_day_zero_does_not_exist(draft):
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitDefinition.objects.create(version=draft, code="D0", name="D0", study_day=0)


def test_overlapping_phases_are_refused(draft):
    phase(draft, "induction", 1, 4).save()
    with pytest.raises(IntegrityError, match="phases_do_not_overlap"), transaction.atomic():
        phase(draft, "maintenance", 4, 12, days_per_week=1).save()
    phase(draft, "maintenance", 5, 12, days_per_week=1).save()


def test_a_phase_needs_days_per_week_or_days_but_not_both(draft):
    with pytest.raises(IntegrityError), transaction.atomic():
        phase(draft, "x", 1, 2, days=[1, 3]).save()
    phase(draft, "y", 1, 2, days_per_week=None, days=[1, 3]).save()


def test_a_ratio_of_zero_is_refused(draft):
    arm = Arm(version=draft, code="A", name="A", ratio=0)
    with pytest.raises(ValidationError, match="arm_ratio_at_least_one"):
        arm.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        arm.save()


def test_codes_are_unique_per_version(draft):
    Arm.objects.create(version=draft, code="A", name="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        Arm.objects.create(version=draft, code="A", name="Again")


def test_an_active_version_cannot_be_edited_by_the_model(db):
    version = load_demo_protocol()
    visit = version.visits.get(code="W4")
    visit.window_plus = 7
    with pytest.raises(ValidationError, match="can no longer be changed"):
        visit.save()


def test_an_active_version_cannot_be_edited_even_by_a_bulk_update(db):
    version = load_demo_protocol()
    with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic():
        VisitDefinition.objects.filter(version=version).update(window_plus=7)
    with pytest.raises(IntegrityError, match="cannot be changed"), transaction.atomic():
        Arm.objects.bulk_create([Arm(version=version, code="NEW", name="New arm")])


def test_an_active_version_keeps_its_label_and_date(db):
    version = load_demo_protocol()
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        ProtocolVersion.objects.filter(pk=version.pk).update(label="9.9")
    ProtocolVersion.objects.filter(pk=version.pk).update(status="retired")


def test_one_active_version_per_study(db):
    version = load_demo_protocol()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtocolVersion.objects.create(
            study=version.study, label="2.0", effective_date="2026-01-01", status="active"
        )
