"""The standard cast, after healthchecks' alice / bob / charlie.

Two studies, RP (open, sites A and B) and MOOD (double blind, site M). alice coordinates at
site A of RP only; ivan investigates at every RP site; mona monitors RP; sam is RP's study
admin; blake is a blinded coordinator in MOOD; charlie has no membership and must see
nothing.
"""

import pytest
from django.test import Client

from tests.factories import (
    MembershipFactory,
    SiteFactory,
    StudyFactory,
    UserFactory,
    enrolled_participant,
)
from tests.patients.helpers_dosing import MONDAY, load, member
from trials.models import Role

# pytest shows the values of a failed assert only in the modules it rewrites: test modules and
# conftest files, and these shared helpers that assert (registered before any test imports them).
pytest.register_assert_rewrite("tests.trials.helpers_protocol_file")


@pytest.fixture
def study(db):
    return StudyFactory(code="RP", title="Relapsing polychondritis", blinding="open")


@pytest.fixture
def site_a(study):
    return SiteFactory(study=study, code="A", name="Site A", timezone="Asia/Shanghai")


@pytest.fixture
def site_b(study):
    return SiteFactory(study=study, code="B", name="Site B", timezone="Europe/Paris")


@pytest.fixture
def blind_study(db):
    return StudyFactory(code="MOOD", title="Mood", blinding="double")


@pytest.fixture
def site_m(blind_study):
    return SiteFactory(study=blind_study, code="M", name="Site M", timezone="Europe/Rome")


@pytest.fixture
def alice(study, site_a):
    user = UserFactory(username="alice")
    MembershipFactory(user=user, study=study, site=site_a, role=Role.COORDINATOR)
    return user


@pytest.fixture
def ivan(study, site_a, site_b):
    user = UserFactory(username="ivan")
    MembershipFactory(user=user, study=study, site=None, role=Role.INVESTIGATOR)
    return user


@pytest.fixture
def mona(study, site_a, site_b):
    user = UserFactory(username="mona")
    MembershipFactory(user=user, study=study, site=None, role=Role.MONITOR)
    return user


@pytest.fixture
def sam(study):
    user = UserFactory(username="sam")
    MembershipFactory(user=user, study=study, site=None, role=Role.STUDY_ADMIN)
    return user


@pytest.fixture
def blake(blind_study, site_m):
    user = UserFactory(username="blake")
    MembershipFactory(
        user=user, study=blind_study, site=site_m, role=Role.COORDINATOR, is_blinded=True
    )
    return user


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_for():
    return login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is slow on purpose; tests hash with MD5 unless they check the real hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gvhd(db):
    """The GVHD library protocol active (doses per m², sized from weight and height), one
    participant of cohort C1 from MONDAY, and cora coordinating the study: the doses by body
    size of the dosing library's tests (patients) and of the vitals' tests (assessments)."""
    version = load("ld-il2-gvhd.yaml")
    participant = enrolled_participant(
        baseline=MONDAY, version=version, arm=version.arms.get(code="C1")
    )
    coordinator = member(version.study, "cora", Role.COORDINATOR)
    return version, participant, coordinator
