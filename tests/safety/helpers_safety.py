"""Shared set-up for the safety tests: the RP demo study with two sites and its people."""

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from safety import services
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    SiteFactory,
    UserFactory,
    enrolled_participant,
)
from trials.models import Role

BASELINE = date(2025, 1, 6)
SHANGHAI = "Asia/Shanghai"
PARIS = "Europe/Paris"
UTC = ZoneInfo("UTC")


def at(*args, tz: str = SHANGHAI) -> datetime:
    """An aware datetime read on the wall clock of `tz`."""
    return datetime(*args, tzinfo=ZoneInfo(tz))


def staff(study, username, role, *, site=None, blinded=False):
    user = UserFactory(username=username)
    MembershipFactory(user=user, study=study, site=site, role=role, is_blinded=blinded)
    return user


def build_cast() -> SimpleNamespace:
    """The demo RP study (site PKUPH, Shanghai) plus a Paris site, and one user per role.

    coordinator works at PKUPH only; investigator at every site; paris_investigator only at
    Paris; monitor and admin at every site; outsider has no membership at all.
    """
    participant = enrolled_participant(baseline=BASELINE)
    study, site = participant.study, participant.site
    paris = SiteFactory(study=study, code="PAR", name="Paris", timezone=PARIS)
    return SimpleNamespace(
        study=study,
        site=site,
        paris=paris,
        participant=participant,
        paris_participant=enrolled_participant(baseline=BASELINE, site=paris),
        coordinator=staff(study, "cora", Role.COORDINATOR, site=site),
        investigator=staff(study, "ivy", Role.INVESTIGATOR),
        paris_investigator=staff(study, "pierre", Role.INVESTIGATOR, site=paris),
        monitor=staff(study, "moe", Role.MONITOR),
        admin=staff(study, "ada", Role.STUDY_ADMIN),
        outsider=UserFactory(username="charlie"),
        password=PASSWORD,
    )


def ae_fields(**overrides) -> dict:
    """A valid, non-serious, ongoing grade 1 AE at a Shanghai site."""
    fields = {
        "term": "Injection site erythema",
        "onset_date": date(2025, 2, 3),
        "end_date": None,
        "ongoing": True,
        "grade": 1,
        "serious": False,
        "relationship": "possible",
        "expectedness": "expected",
        "action_taken": "DOSE NOT CHANGED",
        "outcome": "NOT RECOVERED/NOT RESOLVED",
        "awareness_at": at(2025, 2, 3, 10, 0),
    }
    fields.update(overrides)
    return fields


def sae_fields(**overrides) -> dict:
    """A serious (hospitalisation), expected AE: sponsor clock only."""
    fields = ae_fields(
        term="Pneumonia", grade=3, serious=True, hospitalisation=True, relationship="unlikely"
    )
    fields.update(overrides)
    return fields


def fatal_fields(**overrides) -> dict:
    """A consistent grade 5 event: fatal, serious with the criterion death, ended."""
    fields = ae_fields(
        term="Sepsis",
        grade=5,
        serious=True,
        results_in_death=True,
        outcome="FATAL",
        ongoing=False,
        end_date=date(2025, 2, 6),
        death_date=date(2025, 2, 6),
        relationship="unlikely",
        action_taken="NOT APPLICABLE",
    )
    fields.update(overrides)
    return fields


def report(participant, user, **fields):
    return services.report_adverse_event(participant=participant, user=user, **fields)
