"""Shared set-up for the participant-journey tests: the two demo studies and their people."""

from datetime import date

from patients import services
from patients.randomisation import generate_lists
from tests.factories import MembershipFactory, UserFactory, load_demo_protocol
from trials.models import Role, Site

TODAY_ISH = date(2026, 1, 5)
# The age criteria (RP I4, MOOD I1) are left out: they are derived from the year of birth.
RP_YES = {"I1": "yes", "I2": "yes", "I3": "yes", "E1": "no"}
MOOD_YES = {"I2": "yes", "I3": "yes", "I4": "yes", "E1": "no", "E2": "no", "E3": "no"}


def staff(study, username, role, *, site=None, blinded=False, email=None):
    user = UserFactory(username=username, email=email or f"{username}@example.org")
    MembershipFactory(user=user, study=study, site=site, role=role, is_blinded=blinded)
    return user


def rp_study():
    version = load_demo_protocol("ld-il2-rp.yaml")
    return version.study


def mood_study(seed="fixed-seed"):
    version = load_demo_protocol("ld-il2-mood.yaml")
    generate_lists(version=version, seed=seed, size=30)
    return version.study


def eligible_and_confirmed(participant, coordinator, investigator, answers):
    services.record_eligibility(
        participant=participant, answers=answers, assessed_on=TODAY_ISH, user=coordinator
    )
    services.confirm_eligibility(
        participant=participant, user=investigator, password="correct-horse-battery"
    )


def screened(study, coordinator, number="S-001", site=None, stratum=None, year_of_birth=1985):
    site = site or Site.objects.filter(study=study).order_by("code").first()
    return services.screen(
        study=study,
        site=site,
        screening_number=number,
        year_of_birth=year_of_birth,
        sex="F",
        stratum_code=stratum,
        user=coordinator,
    )


__all__ = ["Role", "staff"]


def enrolled_in_mood(*, admin_email=None):
    """A MOOD participant enrolled (MDD) by blinded staff, with an unblinded study admin.

    Returns {"study", "participant", "coordinator", "investigator", "admin"}.
    """
    study = mood_study()
    coordinator = staff(study, "carla", Role.COORDINATOR, blinded=True)
    investigator = staff(study, "ines", Role.INVESTIGATOR, blinded=True)
    admin = staff(study, "una", Role.STUDY_ADMIN, blinded=False, email=admin_email)
    participant = screened(study, coordinator, stratum="MDD")
    eligible_and_confirmed(participant, coordinator, investigator, MOOD_YES)
    services.enrol(
        participant=participant, baseline_date=TODAY_ISH, consent_date=TODAY_ISH, user=coordinator
    )
    participant.refresh_from_db()
    return {
        "study": study,
        "participant": participant,
        "coordinator": coordinator,
        "investigator": investigator,
        "admin": admin,
    }
