""" "Studies this user administers" has one definition (`Study.objects.administered_by`),
which the access layer, the membership list, the randomisation lists and the reminder
overview all build on."""

from django.contrib.auth.models import AnonymousUser

from tests.factories import MembershipFactory, StudyFactory, UserFactory
from trials import access
from trials.models import Role, Study


def test_a_study_admin_administers_only_the_studies_of_their_active_admin_memberships(db):
    sam = UserFactory(username="sam")
    mine, theirs, former, coordinated = StudyFactory.create_batch(4)
    MembershipFactory(user=sam, study=mine, role=Role.STUDY_ADMIN)
    MembershipFactory(study=theirs, role=Role.STUDY_ADMIN)
    MembershipFactory(user=sam, study=former, role=Role.STUDY_ADMIN, is_active=False)
    MembershipFactory(user=sam, study=coordinated, role=Role.COORDINATOR)
    assert list(Study.objects.administered_by(sam)) == [mine]
    assert list(access.administered_studies(sam)) == [mine]


def test_an_operator_configures_every_study_without_administering_one(db):
    operator = UserFactory(username="root", is_superuser=True)
    StudyFactory.create_batch(2)
    assert not Study.objects.administered_by(operator).exists()
    assert access.administered_studies(operator).count() == 2


def test_nobody_anonymous_administers_anything(db):
    StudyFactory()
    assert not Study.objects.administered_by(AnonymousUser()).exists()
    assert not access.administered_studies(AnonymousUser()).exists()
