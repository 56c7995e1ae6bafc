"""The demo deployment used by `make run` and the browser journeys: who is who.

Passwords are the same for every demo user and printed by `seed_demo`: this is demo data,
never a production install (`seed_demo` is only run by `make run`).
"""

from dataclasses import dataclass

from .models import Membership, Role, Site, Study

DEMO_PASSWORD = "il2-demo-password"

DEMO_STUDIES = {
    "LDIL2-RP": {
        "title": "Low-dose IL-2 in refractory relapsing polychondritis",
        "phase": "2",
        "blinding": "open",
        "sites": [("PKUPH", "Peking University People's Hospital", "Asia/Shanghai")],
    },
    "LDIL2-MOOD": {
        "title": "Low-dose IL-2 in major depressive and bipolar depression",
        "phase": "2",
        "blinding": "double",
        "sites": [("HSR", "IRCCS Ospedale San Raffaele, Milan", "Europe/Rome")],
    },
}


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
    """The two demo studies and their sites; the protocol engine loads their protocols."""
    studies = {}
    for code, spec in DEMO_STUDIES.items():
        study, _ = Study.objects.get_or_create(
            code=code,
            defaults={k: spec[k] for k in ("title", "phase", "blinding")},
        )
        for site_code, name, tz in spec["sites"]:
            Site.objects.get_or_create(
                study=study, code=site_code, defaults={"name": name, "timezone": tz}
            )
        studies[code] = study
    return studies
