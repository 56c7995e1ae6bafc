"""factory-boy factories shared by the whole suite."""

from datetime import date
from pathlib import Path

import factory
from django.contrib.auth import get_user_model

from patients.models import Participant
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


PROTOCOL_DIR = Path(__file__).resolve().parent.parent / "trials" / "protocols"


def load_demo_protocol(name: str = "ld-il2-rp.yaml", *, activate: bool = True):
    """An active protocol version loaded from one of the shipped protocol files."""
    from trials.protocol_file import parse_protocol
    from trials.services import load_protocol

    spec = parse_protocol((PROTOCOL_DIR / name).read_text(encoding="utf-8"), source=name)
    version, _created = load_protocol(spec, activate=activate)
    return version


class ParticipantFactory(factory.django.DjangoModelFactory):
    """A participant of the RP demo protocol, screening unless told otherwise."""

    class Meta:
        model = Participant

    protocol_version = factory.LazyFunction(load_demo_protocol)
    study = factory.LazyAttribute(lambda p: p.protocol_version.study)
    site = factory.LazyAttribute(lambda p: p.study.sites.first())
    screening_number = factory.Sequence(lambda n: f"SCR-{n:04d}")
    year_of_birth = 1980
    sex = "F"


def enrolled_participant(*, baseline: date, version=None, **kwargs) -> Participant:
    """A participant enrolled on `baseline` with their calendar written."""
    from patients.services import generate_calendar

    version = version or load_demo_protocol()
    participant = ParticipantFactory(
        protocol_version=version,
        status="enrolled",
        subject_id=kwargs.pop("subject_id", None) or f"SUBJ-{Participant.objects.count() + 1}",
        baseline_date=baseline,
        arm=kwargs.pop("arm", None) or version.arms.first(),
        **kwargs,
    )
    generate_calendar(participant=participant)
    return participant
