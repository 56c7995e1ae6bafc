"""The demo deployment used by `make run` and the browser journeys: who is who.

Passwords are the same for every demo user and printed by `seed_demo`: this is demo data,
never a production install (`seed_demo` is only run by `make run`).
"""

from dataclasses import dataclass
from pathlib import Path

from trials.models import Membership, Role, Study
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

DEMO_PASSWORD = "il2-demo-password"

#: The example protocols ship with trials (load_protocol and the docs name them); the demo
#: loads two of them.
PROTOCOL_DIR = Path(__file__).resolve().parent.parent / "trials" / "protocols"
DEMO_PROTOCOL_FILES = ("ld-il2-rp.yaml", "ld-il2-mood.yaml")


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    description: str
    studies: tuple[str, ...] = ("LDIL2-RP", "LDIL2-MOOD")
    blinded: bool = False

    def ensure_membership(self, user, study: Study) -> None:
        Membership.objects.get_or_create(
            user=user,
            study=study,
            site=None,
            role=self.role,
            defaults={"is_blinded": self.blinded},
        )


DEMO_USERS = [
    DemoUser("coordinator", "Demo coordinator", Role.COORDINATOR, "study coordinator"),
    DemoUser("investigator", "Demo investigator", Role.INVESTIGATOR, "investigator"),
    DemoUser("monitor", "Demo monitor", Role.MONITOR, "monitor (read only, raises queries)"),
    DemoUser("studyadmin", "Demo study admin", Role.STUDY_ADMIN, "study admin (configures)"),
    DemoUser(
        "blinded", "Blinded coordinator", Role.COORDINATOR, "blinded coordinator", blinded=True
    ),
    DemoUser("outsider", "No membership", Role.MONITOR, "no membership: sees nothing", ()),
]


def ensure_demo_studies() -> dict[str, Study]:
    """The two demo studies from their protocol files, active (idempotent)."""
    studies = {}
    for name in DEMO_PROTOCOL_FILES:
        spec = parse_protocol((PROTOCOL_DIR / name).read_text(encoding="utf-8"), source=name)
        version, _created = load_protocol(spec, reason="seed_demo", activate=True)
        studies[version.study.code] = version.study
    return studies
