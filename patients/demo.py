"""A few demo participants so `make run` shows a living study (idempotent).

RP: three enrolled participants at different points of their 12 weeks and one screen
failure; MOOD: one randomised participant and one in screening. Everything goes through the
same services as the pages, signed by the demo investigator.
"""

from datetime import timedelta

from django.utils import timezone

from . import services
from .models import Participant

RP_ANSWERS = {"I1": "yes", "I2": "yes", "I3": "yes", "I4": 45, "E1": "no"}
MOOD_ANSWERS = {"I1": 38, "I2": "yes", "I3": "yes", "I4": "yes", "E1": "no", "E2": "no", "E3": "no"}


def ensure_demo_participants(*, studies: dict, coordinator, investigator, password: str) -> int:
    """Create the demo participants that do not exist yet; return how many were created."""
    today = timezone.localdate()
    plan = [
        ("LDIL2-RP", "RP-S001", 1968, "F", None, RP_ANSWERS, 60),
        ("LDIL2-RP", "RP-S002", 1975, "M", None, RP_ANSWERS, 25),
        ("LDIL2-RP", "RP-S003", 1990, "F", None, RP_ANSWERS, 3),
        ("LDIL2-RP", "RP-S004", 2011, "M", None, RP_ANSWERS | {"I4": 15}, None),
        ("LDIL2-MOOD", "MD-S001", 1982, "F", "MDD", MOOD_ANSWERS, 10),
        ("LDIL2-MOOD", "MD-S002", 1979, "M", "BD", MOOD_ANSWERS, None),
    ]
    created = 0
    for code, number, born, sex, stratum, answers, days_ago in plan:
        study = studies[code]
        if Participant.objects.filter(study=study, screening_number=number).exists():
            continue
        site = study.sites.order_by("code").first()
        participant = services.screen(
            study=study,
            site=site,
            screening_number=number,
            year_of_birth=born,
            sex=sex,
            stratum_code=stratum,
            user=coordinator,
        )
        created += 1
        baseline = today - timedelta(days=days_ago) if days_ago is not None else today
        services.record_eligibility(
            participant=participant,
            answers=answers,
            assessed_on=baseline - timedelta(days=3),
            user=coordinator,
        )
        if days_ago is None:
            continue
        services.confirm_eligibility(participant=participant, user=investigator, password=password)
        services.enrol(
            participant=participant,
            baseline_date=baseline,
            consent_date=baseline - timedelta(days=3),
            user=coordinator,
        )
    return created
