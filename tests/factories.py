"""factory-boy factories shared by the whole suite."""

import factory
from django.contrib.auth import get_user_model

from trials.models import Membership, Role, Site, Study

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"STUDY-{n}")
    title = factory.LazyAttribute(lambda s: f"Study {s.code}")
    phase = "2"
    blinding = "open"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    study = factory.SubFactory(StudyFactory)
    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.LazyAttribute(lambda s: f"Site {s.code}")
    timezone = "Europe/Paris"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    study = factory.SubFactory(StudyFactory)
    site = None
    role = Role.COORDINATOR
    is_blinded = False
