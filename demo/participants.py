"""A few demo participants so `make run` shows a living study (idempotent).

RP: three enrolled participants at different points of their 12 weeks (their past doses
given and past visits entered, so the plots have data) and one screen failure; MOOD: one
randomised participant and one in screening. Everything goes through the same services as
the pages, signed by the demo investigator.
"""

from datetime import timedelta

from assessments.dosing import record_dose
from assessments.instruments import get as instrument
from assessments.selectors import forms_for_visit
from assessments.services import capture_form
from patients import services
from patients.models import Participant

# The age criteria (RP I4, MOOD I1) are derived from the year of birth, never typed.
RP_ANSWERS = {"I1": "yes", "I2": "yes", "I3": "yes", "E1": "no"}
MOOD_ANSWERS = {"I2": "yes", "I3": "yes", "I4": "yes", "E1": "no", "E2": "no", "E3": "no"}


def ensure_demo_participants(*, studies: dict, coordinator, investigator, password: str) -> int:
    """Create the demo participants that do not exist yet; return how many were created."""
    plan = [
        ("LDIL2-RP", "RP-S001", 1968, "F", None, RP_ANSWERS, 60),
        ("LDIL2-RP", "RP-S002", 1975, "M", None, RP_ANSWERS, 25),
        ("LDIL2-RP", "RP-S003", 1990, "F", None, RP_ANSWERS, 3),
        ("LDIL2-RP", "RP-S004", 2011, "M", None, RP_ANSWERS, None),
        ("LDIL2-MOOD", "MD-S001", 1982, "F", "MDD", MOOD_ANSWERS, 10),
        ("LDIL2-MOOD", "MD-S002", 1979, "M", "BD", MOOD_ANSWERS, None),
    ]
    created = 0
    for code, number, born, sex, stratum, answers, days_ago in plan:
        study = studies[code]
        if Participant.objects.filter(study=study, screening_number=number).exists():
            continue
        site = study.sites.order_by("code").first()
        today = site.today()
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
        if code == "LDIL2-RP":
            _record_the_past(participant, coordinator, today)
    return created


def _record_the_past(participant, user, today) -> None:
    """Doses given and forms entered up to today, with RPDAI and steroids improving."""
    for dose in participant.doses.filter(date__lt=today).order_by("date"):
        record_dose(
            planned_dose=dose,
            user=user,
            given=True,
            administered_on=dose.date,
            actual_dose=dose.dose,
            lot="DEMO-LOT-1",
            injection_site="abdomen_left",
            local_reaction="none",
        )
    absent = dict.fromkeys(instrument("RPDAI").item_codes, False)
    visits = participant.visits.filter(target_date__lt=today).select_related("definition")
    for n, visit in enumerate(visits):
        present = {"AURIC": True, "NASAL": n < 2, "CRP": n < 1, "ARTHR": n == 0}
        answers = {
            "RPDAI": absent | present,
            "TREG": {
                "lymphocytes_per_ul": 1500,
                "cd4_per_ul": 780,
                "treg_pct_of_cd4": str(4 + 2 * n),
                "tcon_pct_of_cd4": "62",
            },
            "STEROID": {"drug": "prednisone", "mg_per_day": 20 - 5 * n},
            "VITALS": {
                "WEIGHT": str(68 - n),
                "HEIGHT": "165.0",
                "SYSBP": 118 + n,
                "DIABP": 76,
                "HR": 72,
                "TEMP": "36.6",
            },
            "CONMED": {
                "CM": [
                    {
                        "CMTRT": "Prednisone",
                        "CMDOSE": "20",
                        "CMDOSU": "mg",
                        "CMROUTE": "PO",
                        "CMFREQ": "QD",
                        "CMSTDTC": (visit.target_date - timedelta(days=90)).isoformat(),
                        "CMONGO": "Y",
                        "CMINDC": "Relapsing polychondritis",
                        "CMGC": "prednisone",
                    },
                    {  # a second glucocorticoid: the steroid taper counts it as well
                        "CMTRT": "Hydrocortisone",
                        "CMDOSE": "10",
                        "CMDOSU": "mg",
                        "CMROUTE": "PO",
                        "CMFREQ": "QD",
                        "CMSTDTC": (visit.target_date - timedelta(days=400)).isoformat(),
                        "CMONGO": "Y",
                        "CMINDC": "Adrenal insufficiency",
                        "CMGC": "hydrocortisone",
                    },
                ]
            },
            "MEDHIST": {"MH": [{"MHTERM": "Hypertension", "MHONGO": "Y"}]},
        }
        # Forms the protocol schedules at this visit (CONMED and MEDHIST at baseline only).
        scheduled = forms_for_visit(visit)
        answers = {form: values for form, values in answers.items() if form in scheduled}
        for form, values in answers.items():
            capture_form(
                participant=participant,
                visit=visit,
                form_code=form,
                visit_date=visit.target_date,
                answers=values,
                user=user,
            )
