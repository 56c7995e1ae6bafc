"""Screening → eligibility → consent → enrolment → withdrawal, as the protocol requires."""

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from patients import services
from patients.models import DoseStatus, ParticipantStatus, VisitStatus
from signatures.services import SignatureError
from tests.patients.journey_helpers import (
    MOOD_YES,
    RP_YES,
    TODAY_ISH,
    eligible_and_confirmed,
    mood_study,
    rp_study,
    screened,
    staff,
)
from trials.models import Role


@pytest.fixture
def rp(db):
    study = rp_study()
    return {
        "study": study,
        "coordinator": staff(study, "carla", Role.COORDINATOR),
        "investigator": staff(study, "ines", Role.INVESTIGATOR),
        "monitor": staff(study, "moe", Role.MONITOR),
    }


def test_an_ineligible_verdict_lists_the_failing_criteria_and_fails_screening(rp):
    participant = screened(rp["study"], rp["coordinator"], year_of_birth=2010)
    answers = RP_YES | {"I4": 16, "E1": "yes"}
    assessment = services.record_eligibility(
        participant=participant, answers=answers, assessed_on=TODAY_ISH, user=rp["coordinator"]
    )
    assert not assessment.eligible
    assert assessment.failed == ["I4", "E1"]
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.SCREEN_FAILED
    assert participant.end_reason == "Not eligible: I4, E1"


def test_an_unanswered_criterion_is_refused_by_its_code(rp):
    from django.core.exceptions import ValidationError

    participant = screened(rp["study"], rp["coordinator"])
    answers = dict(RP_YES)
    del answers["I2"]
    answers["I4"] = "thirty"
    with pytest.raises(ValidationError) as excinfo:
        services.record_eligibility(
            participant=participant, answers=answers, assessed_on=TODAY_ISH, user=rp["coordinator"]
        )
    assert excinfo.value.message_dict == {
        "I2": ["Answer this criterion."],
        "I4": ["Enter a number."],
    }


def test_enrolment_is_refused_without_confirmed_eligibility(rp):
    participant = screened(rp["study"], rp["coordinator"])
    services.record_eligibility(
        participant=participant, answers=RP_YES, assessed_on=TODAY_ISH, user=rp["coordinator"]
    )
    with pytest.raises(services.JourneyError, match="confirmed by an investigator"):
        services.enrol(
            participant=participant,
            baseline_date=TODAY_ISH,
            consent_date=TODAY_ISH,
            user=rp["coordinator"],
        )


def test_enrolment_is_refused_without_consent(rp):
    participant = screened(rp["study"], rp["coordinator"])
    eligible_and_confirmed(participant, rp["coordinator"], rp["investigator"], RP_YES)
    with pytest.raises(services.JourneyError, match="consent"):
        services.enrol(participant=participant, baseline_date=TODAY_ISH, user=rp["coordinator"])


def test_enrolment_assigns_subject_id_arm_baseline_and_calendar_at_once(rp):
    first = screened(rp["study"], rp["coordinator"], "S-001")
    second = screened(rp["study"], rp["coordinator"], "S-002")
    for participant in (first, second):
        eligible_and_confirmed(participant, rp["coordinator"], rp["investigator"], RP_YES)
        services.enrol(
            participant=participant,
            baseline_date=date(2026, 1, 5),
            consent_date=date(2026, 1, 2),
            user=rp["coordinator"],
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.subject_id, second.subject_id) == ("PKUPH-001", "PKUPH-002")
    assert first.status == ParticipantStatus.ENROLLED
    assert first.arm.code == "LDIL2"
    assert first.doses.count() == 28
    assert first.visits.count() == 4
    assert first.consents.get().consent_date == date(2026, 1, 2)


def test_a_changed_answer_voids_the_signature_visibly(rp):
    from signatures.models import Signature

    participant = screened(rp["study"], rp["coordinator"])
    eligible_and_confirmed(participant, rp["coordinator"], rp["investigator"], RP_YES)
    assert services.eligibility_confirmed(participant)
    services.record_eligibility(
        participant=participant,
        answers=RP_YES | {"I4": 40},
        assessed_on=TODAY_ISH,
        user=rp["coordinator"],
        reason="Age mis-typed",
    )
    assert not services.eligibility_confirmed(participant)
    voided = Signature.objects.get(voided_at__isnull=False)
    assert "Age mis-typed" in voided.void_reason


def test_changing_saved_answers_needs_a_reason(rp):
    from django.core.exceptions import ValidationError

    participant = screened(rp["study"], rp["coordinator"])
    services.record_eligibility(
        participant=participant, answers=RP_YES, assessed_on=TODAY_ISH, user=rp["coordinator"]
    )
    with pytest.raises(ValidationError, match="reason"):
        services.record_eligibility(
            participant=participant,
            answers=RP_YES | {"I4": 40},
            assessed_on=TODAY_ISH,
            user=rp["coordinator"],
        )


def test_only_an_investigator_signs_and_only_with_the_right_password(rp):
    participant = screened(rp["study"], rp["coordinator"])
    services.record_eligibility(
        participant=participant, answers=RP_YES, assessed_on=TODAY_ISH, user=rp["coordinator"]
    )
    with pytest.raises(PermissionDenied):
        services.confirm_eligibility(
            participant=participant, user=rp["coordinator"], password="correct-horse-battery"
        )
    with pytest.raises(SignatureError, match="password is not correct"):
        services.confirm_eligibility(
            participant=participant, user=rp["investigator"], password="wrong"
        )


def test_a_monitor_cannot_screen(rp):
    with pytest.raises(PermissionDenied):
        screened(rp["study"], rp["monitor"])


def test_a_duplicate_screening_number_is_refused_on_its_field(rp):
    screened(rp["study"], rp["coordinator"], "S-001")
    with pytest.raises(services.JourneyError) as excinfo:
        screened(rp["study"], rp["coordinator"], "S-001")
    assert excinfo.value.field == "screening_number"


def test_withdrawal_cancels_future_visits_and_doses_but_keeps_them(rp):
    participant = screened(rp["study"], rp["coordinator"])
    eligible_and_confirmed(participant, rp["coordinator"], rp["investigator"], RP_YES)
    services.enrol(
        participant=participant,
        baseline_date=date(2026, 1, 5),
        consent_date=date(2026, 1, 5),
        user=rp["coordinator"],
    )
    services.end_participation(
        participant=participant,
        end_date=date(2026, 1, 20),
        reason="Moved abroad",
        user=rp["coordinator"],
    )
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.WITHDRAWN
    assert participant.visits.count() == 4
    assert participant.visits.filter(status=VisitStatus.CANCELLED).count() == 4
    assert participant.doses.count() == 28
    assert (
        participant.doses.filter(status=DoseStatus.CANCELLED, date__gt=date(2026, 1, 20)).count()
        == 28 - 12
    )
    assert participant.doses.filter(status=DoseStatus.PLANNED).count() == 12


def test_randomised_enrolment_takes_the_stratum_list(db):
    study = mood_study()
    coordinator = staff(study, "carla", Role.COORDINATOR, blinded=True)
    investigator = staff(study, "ines", Role.INVESTIGATOR, blinded=True)
    participant = screened(study, coordinator, stratum="BD")
    eligible_and_confirmed(participant, coordinator, investigator, MOOD_YES)
    services.enrol(
        participant=participant,
        baseline_date=date(2026, 1, 5),
        consent_date=date(2026, 1, 5),
        user=coordinator,
    )
    participant.refresh_from_db()
    assert participant.arm.code in {"IL2", "PBO"}
    assert participant.randomisation_slot.allocation_list.stratum.code == "BD"


def test_emergency_unblinding_is_signed_and_audited_and_leaves_the_notice_to_the_outbox(
    db, django_capture_on_commit_callbacks
):
    """The study admins' notice: tests/notifications/test_unblinding_notice.py."""
    from audit.history import history_for

    study = mood_study()
    coordinator = staff(study, "carla", Role.COORDINATOR, blinded=True)
    investigator = staff(study, "ines", Role.INVESTIGATOR, blinded=True)
    staff(study, "sam", Role.STUDY_ADMIN, email="sam@hospital.org")
    participant = screened(study, coordinator, stratum="MDD")
    eligible_and_confirmed(participant, coordinator, investigator, MOOD_YES)
    services.enrol(
        participant=participant,
        baseline_date=date(2026, 1, 5),
        consent_date=date(2026, 1, 5),
        user=coordinator,
    )
    with django_capture_on_commit_callbacks(execute=True):
        unblinding = services.emergency_unblind(
            participant=participant,
            user=investigator,
            password="correct-horse-battery",
            reason="Anaphylaxis: treating physician needs to know",
        )
    from patients.selectors import may_see_arm

    assert may_see_arm(investigator, participant)
    assert not may_see_arm(coordinator, participant)
    assert mail.outbox == []  # a refusing mail server cannot fail the unblinding
    assert history_for(unblinding)[0].user == "ines"
