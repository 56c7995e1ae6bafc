"""Every consistency rule of an adverse event, both ways: `full_clean()` gives the message on
the field to correct, and the database refuses the same row with a named constraint."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from safety.models import MESSAGES, AdverseEvent
from tests.factories import enrolled_participant
from tests.safety.helpers_safety import BASELINE, UTC, ae_fields, at, fatal_fields, report, staff
from trials.models import Role


@pytest.fixture
def participant(db):
    return enrolled_participant(baseline=BASELINE)


def ended(**overrides):
    fields = {"ongoing": False, "end_date": date(2025, 2, 5), "outcome": "RECOVERED/RESOLVED"}
    return ae_fields(**(fields | overrides))


# (rule, fields, field with the message, message key, constraints that may refuse the row)
RULES = [
    (
        "end before onset",
        ended(end_date=date(2025, 2, 1)),
        "end_date",
        "end_before_onset",
        {"ae_end_not_before_onset"},
    ),
    (
        "neither end date nor ongoing",
        ae_fields(ongoing=False, end_date=None, outcome="UNKNOWN"),
        "end_date",
        "end_or_ongoing",
        {"ae_end_date_or_ongoing"},
    ),
    (
        "ongoing with an end date",
        ae_fields(ongoing=True, end_date=date(2025, 2, 5), outcome="UNKNOWN"),
        "end_date",
        "ongoing_with_end",
        {"ae_end_date_or_ongoing"},
    ),
    (
        "grade 5 not fatal",
        fatal_fields(outcome="RECOVERED/RESOLVED WITH SEQUELAE", death_date=None),
        "outcome",
        "grade5_not_fatal",
        {"ae_grade5_fatal_with_death_date"},
    ),
    (
        "grade 5 without a date of death",
        fatal_fields(death_date=None),
        "death_date",
        "grade5_no_death_date",
        {"ae_grade5_fatal_with_death_date", "ae_fatal_has_death_date"},
    ),
    (
        "fatal without the seriousness criterion death",
        fatal_fields(grade=4, results_in_death=False, hospitalisation=True),
        "results_in_death",
        "fatal_not_death",
        {"ae_fatal_is_serious_death"},
    ),
    (
        "fatal without a date of death",
        fatal_fields(grade=4, death_date=None),
        "death_date",
        "fatal_no_death_date",
        {"ae_fatal_has_death_date"},
    ),
    (
        "a date of death on a non-fatal event",
        ae_fields(death_date=date(2025, 2, 6)),
        "death_date",
        "death_date_not_fatal",
        {"ae_death_date_only_when_fatal"},
    ),
    (
        "death before onset",
        fatal_fields(death_date=date(2025, 2, 1)),
        "death_date",
        "death_before_onset",
        {"ae_death_not_before_onset"},
    ),
    (
        "serious without a criterion",
        ae_fields(serious=True),
        "serious",
        "serious_no_criterion",
        {"ae_serious_iff_criterion"},
    ),
    (
        "a criterion without serious",
        ae_fields(hospitalisation=True),
        "serious",
        "criterion_not_serious",
        {"ae_serious_iff_criterion"},
    ),
    (
        "an outcome still going on with an end date",
        ended(outcome="RECOVERING/RESOLVING"),
        "ongoing",
        "outcome_ongoing",
        {"ae_outcome_matches_ongoing"},
    ),
    (
        "an ended outcome while ongoing",
        ae_fields(outcome="RECOVERED/RESOLVED"),
        "ongoing",
        "outcome_ended",
        {"ae_outcome_matches_ongoing"},
    ),
]
IDS = [rule[0] for rule in RULES]


@pytest.mark.parametrize(("rule", "fields", "field", "key", "constraints"), RULES, ids=IDS)
def test_full_clean_puts_the_message_on_the_field(
    participant, rule, fields, field, key, constraints
):
    adverse_event = AdverseEvent(participant=participant, **fields)
    with pytest.raises(ValidationError) as caught:
        adverse_event.full_clean()
    assert str(MESSAGES[key]) in caught.value.message_dict[field]


@pytest.mark.parametrize(("rule", "fields", "field", "key", "constraints"), RULES, ids=IDS)
def test_the_database_refuses_the_row(participant, rule, fields, field, key, constraints):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        AdverseEvent.objects.create(participant=participant, **fields)
    assert any(name in str(caught.value) for name in constraints), str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [
        ae_fields(),
        ended(),
        ae_fields(serious=True, hospitalisation=True, life_threatening=True, grade=4),
        fatal_fields(),
        fatal_fields(grade=4),
        ae_fields(outcome="UNKNOWN"),
    ],
    ids=["ongoing", "ended", "serious", "grade 5 fatal", "fatal grade 4", "unknown outcome"],
)
def test_consistent_events_pass_both_checks(participant, fields):
    adverse_event = AdverseEvent(participant=participant, **fields)
    adverse_event.full_clean()
    adverse_event.save()
    assert AdverseEvent.objects.filter(pk=adverse_event.pk).exists()


@pytest.mark.parametrize("grade", [0, 6])
def test_a_grade_outside_ctcae_1_to_5_is_refused_both_ways(participant, grade):
    with pytest.raises(ValidationError) as caught:
        AdverseEvent(participant=participant, **ae_fields(grade=grade)).full_clean()
    assert "grade" in caught.value.message_dict
    with pytest.raises(IntegrityError, match="ae_grade_ctcae_1_to_5"), transaction.atomic():
        AdverseEvent.objects.create(participant=participant, **ae_fields(grade=grade))


def test_a_voided_event_needs_a_reason_both_ways(participant):
    fields = ae_fields(voided_at=timezone.now(), void_reason="")
    with pytest.raises(ValidationError) as caught:
        AdverseEvent(participant=participant, **fields).full_clean()
    assert str(MESSAGES["voided_without_reason"]) in caught.value.message_dict["void_reason"]
    with pytest.raises(IntegrityError, match="ae_voided_with_reason"), transaction.atomic():
        AdverseEvent.objects.create(participant=participant, **fields)


def clean_errors(participant, **overrides) -> dict:
    with pytest.raises(ValidationError) as caught:
        AdverseEvent(participant=participant, **ae_fields(**overrides)).full_clean()
    return caught.value.message_dict


def test_awareness_cannot_precede_the_onset(participant):
    errors = clean_errors(participant, awareness_at=at(2025, 2, 2, 23, 0))
    assert errors == {"awareness_at": [str(MESSAGES["awareness_before_onset"])]}


def test_awareness_is_compared_with_the_onset_on_the_site_calendar(participant):
    # 00:30 on 3 February in Shanghai is still 2 February in UTC: same day as the onset.
    awareness = at(2025, 2, 3, 0, 30)
    assert awareness.astimezone(UTC).date() == date(2025, 2, 2)
    AdverseEvent(participant=participant, **ae_fields(awareness_at=awareness)).full_clean()


def test_dates_and_awareness_cannot_be_in_the_future(participant):
    tomorrow = timezone.localdate() + timedelta(days=2)
    errors = clean_errors(
        participant,
        onset_date=tomorrow,
        awareness_at=timezone.now() + timedelta(days=2),
    )
    assert str(MESSAGES["in_future"]) in errors["onset_date"]
    assert str(MESSAGES["in_future"]) in errors["awareness_at"]


def test_a_linked_visit_must_be_the_participants_own(participant):
    other = enrolled_participant(baseline=BASELINE)
    errors = clean_errors(participant, visit=other.visits.get(code="W4"))
    assert errors == {"visit": [str(MESSAGES["visit_other_participant"])]}
    AdverseEvent(
        participant=participant, **ae_fields(visit=participant.visits.get(code="W4"))
    ).full_clean()


def test_a_meddra_code_has_eight_digits(participant):
    errors = clean_errors(participant, meddra_code="1002")
    assert "meddra_code" in errors
    AdverseEvent(
        participant=participant,
        **ae_fields(meddra_code="10015150", meddra_term="Erythema"),
    ).full_clean()


def test_the_report_service_answers_with_the_same_field_messages(participant):
    coordinator = staff(participant.study, "cora", Role.COORDINATOR, site=participant.site)
    with pytest.raises(ValidationError) as caught:
        report(participant, coordinator, **fatal_fields(outcome="UNKNOWN", death_date=None))
    errors = caught.value.message_dict
    assert str(MESSAGES["grade5_not_fatal"]) in errors["outcome"]
    assert str(MESSAGES["grade5_no_death_date"]) in errors["death_date"]
    assert not AdverseEvent.objects.exists()
