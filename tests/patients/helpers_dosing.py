"""The protocol library's files loaded and activated in the database, and members of their
studies, for the tests of doses (patients) and of doses sized from the vitals (assessments)."""

from datetime import date
from pathlib import Path

from django.core.management import call_command

from tests.factories import MembershipFactory, UserFactory
from trials.models import ProtocolVersion, Study

PROTOCOLS = Path(__file__).resolve().parents[2] / "trials" / "protocols"
MONDAY = date(2025, 1, 6)


def load(name: str) -> ProtocolVersion:
    call_command("load_protocol", str(PROTOCOLS / name), "--activate")
    spec_code = {
        "ld-il2-rp.yaml": "LDIL2-RP",
        "ld-il2-mood.yaml": "LDIL2-MOOD",
        "ld-il2-sle.yaml": "LDIL2-SLE",
        "ld-il2-sjogren.yaml": "LDIL2-SJS",
        "ld-il2-t1d.yaml": "LDIL2-T1D",
        "ld-il2-gvhd.yaml": "LDIL2-GVHD",
    }[name]
    return Study.objects.get(code=spec_code).versions.get(status="active")


def member(study, username, role, *, blinded=False):
    user = UserFactory(username=username)
    MembershipFactory(user=user, study=study, site=None, role=role, is_blinded=blinded)
    return user
