"""An investigator holds, resumes, reduces or stops a participant's dosing: exactly the
planned doses from the decision's date change, recorded doses never do, and every change is
in the audit trail with its reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments import dosing
from audit.history import history_for
from patients.dose_modifications import modify_dosing
from patients.models import DoseModification, DoseStatus, PlannedDose
from tests.assessments.helpers_capture import participant, rp_cast, site_today


@pytest.fixture
def cast(db):
    return rp_cast()


@pytest.fixture
def p(cast):
    """Enrolled two weeks ago: ten doses behind, the rest ahead."""
    return participant(baseline=site_today() - timedelta(days=14))


def statuses(p):
    return {d.date: d.status for d in p.doses.order_by("date")}


def give(p, dose, user):
    dosing.record_dose(
        planned_dose=dose, user=user, given=True, administered_on=dose.date, actual_dose="1"
    )


def decide(p, user, kind, from_date, **kwargs):
    kwargs.setdefault("reason", "Grade 3 injection-site reaction")
    return modify_dosing(participant=p, user=user, kind=kind, from_date=from_date, **kwargs)


def test_a_hold_holds_every_planned_dose_from_its_date_and_leaves_recorded_ones(cast, p):
    today = site_today()
    past = list(p.doses.filter(date__lt=today).order_by("date"))
    give(p, past[0], cast.cora)
    before = statuses(p)
    hold = decide(p, cast.ivy, "hold", today)
    after = statuses(p)
    for day, status in after.items():
        if day >= today:
            assert status == DoseStatus.HELD, day
        else:
            assert status == before[day], day
    assert after[past[0].date] == DoseStatus.GIVEN
    assert set(hold.planned_doses.values_list("date", flat=True)) == {
        d for d in after if d >= today
    }


def test_a_hold_until_a_date_holds_only_the_doses_up_to_it(cast, p):
    today = site_today()
    until = today + timedelta(days=6)
    decide(p, cast.ivy, "hold", today, until_date=until)
    for day, status in statuses(p).items():
        if today <= day <= until:
            assert status == DoseStatus.HELD
        elif day > until:
            assert status == DoseStatus.PLANNED


def test_resume_gives_back_the_held_doses_from_its_date(cast, p):
    today = site_today()
    decide(p, cast.ivy, "hold", today)
    resume_on = today + timedelta(days=7)
    resume = decide(p, cast.ivy, "resume", resume_on, reason="Reaction resolved")
    for day, status in statuses(p).items():
        if today <= day < resume_on:
            assert status == DoseStatus.HELD
        elif day >= resume_on:
            assert status == DoseStatus.PLANNED
    assert resume.planned_doses.filter(status=DoseStatus.PLANNED).count() > 0


def test_a_reduction_changes_the_planned_amount_and_keeps_the_old_one(cast, p):
    today = site_today()
    past = p.doses.filter(date__lt=today).order_by("date").first()
    give(p, past, cast.cora)
    reduction = decide(p, cast.ivy, "reduce", today, level=1)
    assert (reduction.level, reduction.dose) == (1, Decimal("0.500"))
    for dose in p.doses.order_by("date"):
        if dose.date >= today:
            assert (dose.dose, dose.unmodified_dose) == (Decimal("0.500"), Decimal("1.000"))
            assert dose.status == DoseStatus.PLANNED and dose.modification == reduction
        else:
            assert (dose.dose, dose.unmodified_dose, dose.modification) == (
                Decimal("1.000"),
                None,
                None,
            )
    # A second reduction still says what the protocol planned.
    decide(p, cast.ivy, "reduce", today, level=2)
    later = p.doses.filter(date__gte=today).first()
    assert (later.dose, later.unmodified_dose) == (Decimal("0.250"), Decimal("1.000"))


def test_a_stop_cancels_every_later_planned_or_held_dose_and_ends_all_decisions(cast, p):
    today = site_today()
    decide(p, cast.ivy, "hold", today, until_date=today + timedelta(days=3))
    stop = decide(p, cast.ivy, "stop", today, reason="Withdrawn from study drug: SAE")
    for day, status in statuses(p).items():
        if day >= today:
            assert status == DoseStatus.CANCELLED
    assert stop.planned_doses.count() == p.doses.filter(date__gte=today).count()
    with pytest.raises(ValidationError) as refused:
        decide(p, cast.ivy, "resume", today)
    assert "stopped" in str(refused.value)


def test_a_reduction_to_a_level_the_protocol_does_not_list_is_refused_on_the_field(cast, p):
    with pytest.raises(ValidationError) as refused:
        decide(p, cast.ivy, "reduce", site_today(), level=3)
    assert (
        "not one of the protocol's dose levels (1 to 2)" in refused.value.message_dict["level"][0]
    )
    with pytest.raises(ValidationError) as refused:
        decide(p, cast.ivy, "reduce", site_today())
    assert "level" in refused.value.message_dict
    assert not DoseModification.objects.exists()


def test_bad_dates_and_a_missing_reason_are_refused_field_by_field(cast, p):
    today = site_today()
    with pytest.raises(ValidationError) as refused:
        decide(p, cast.ivy, "hold", p.baseline_date - timedelta(days=1), reason=" ")
    errors = refused.value.message_dict
    assert "before the participant's baseline" in errors["from_date"][0]
    assert errors["reason"] == ["Give the reason for the decision."]

    given = p.doses.filter(date__lt=today).order_by("date")[2]
    give(p, given, cast.cora)
    with pytest.raises(ValidationError) as refused:
        decide(p, cast.ivy, "hold", given.date)
    assert "already recorded" in refused.value.message_dict["from_date"][0]

    with pytest.raises(ValidationError) as refused:
        decide(p, cast.ivy, "hold", today + timedelta(days=5), until_date=today)
    assert "until_date" in refused.value.message_dict

    with pytest.raises(ValidationError) as refused:
        decide(p, cast.ivy, "resume", today)
    assert refused.value.message_dict["from_date"] == ["No dose is held on or after this date."]
    assert not DoseModification.objects.exists()


@pytest.mark.parametrize("who", ["cora", "molly", "otto", "charlie"])
def test_only_an_investigator_decides(cast, p, who):
    with pytest.raises(PermissionDenied):
        decide(p, getattr(cast, who), "hold", site_today())
    assert set(statuses(p).values()) <= {DoseStatus.PLANNED}


def test_every_change_is_in_the_audit_trail_with_the_reason(cast, p):
    today = site_today()
    hold = decide(p, cast.ivy, "hold", today, reason="Neutropenia grade 3")
    dose = p.doses.filter(date__gte=today).first()
    entries = history_for(dose)
    last = entries[-1]
    assert "Neutropenia grade 3" in last.reason and last.user == cast.ivy.username
    assert any(c.field == "status" and c.new == "held" for c in last.changes)
    (created,) = history_for(hold)
    assert "Neutropenia grade 3" in created.reason
    assert PlannedDose.objects.filter(status=DoseStatus.HELD).count() == hold.planned_doses.count()


def test_an_amendment_keeps_a_stop_and_a_reduction_on_the_doses_it_rewrites(cast):
    from patients.services import reconsent
    from tests.patients.helpers_calendar import amendment

    today = site_today()
    p = participant(baseline=today - timedelta(days=14))
    decide(p, cast.ivy, "reduce", today, level=1)
    decide(p, cast.ivy, "stop", today + timedelta(days=21), reason="SAE")
    new = amendment(effective=today.isoformat())
    reconsent(participant=p, version=new, consent_date=today, user=cast.cora)
    rewritten = p.doses.filter(protocol_version=new)
    assert rewritten.exists()
    before_stop = rewritten.filter(date__lt=today + timedelta(days=21))
    assert {(d.dose, d.status) for d in before_stop} == {(Decimal("0.500"), DoseStatus.PLANNED)}
    after_stop = rewritten.filter(date__gte=today + timedelta(days=21))
    assert after_stop.exists()
    assert {d.status for d in after_stop} == {DoseStatus.CANCELLED}
    assert not p.doses.filter(status=DoseStatus.PLANNED, date__gte=today + timedelta(days=21))
