"""The protocol library's regimens in the database: every file loads, activates and gives each
arm its calendar; doses by body size are set from weight and height (audited); and in the
blinded dose-ranging study a blinded user cannot tell the arm from a dose amount."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from audit.history import history_for
from notifications import services as notifications
from notifications.models import Notification
from patients.models import DoseStatus, PlannedDose
from patients.services import apply_body_size, reconsent
from tests.conftest import login
from tests.factories import enrolled_participant
from tests.patients.helpers_dosing import MONDAY, PROTOCOLS, load, member
from trials.models import Role
from trials.protocol_file import parse_protocol
from trials.services import spec_from_version

pytestmark = pytest.mark.django_db

# Doses each participant is planned, whatever their arm.
EXPECTED_DOSES = {
    "ld-il2-rp.yaml": 28,
    "ld-il2-mood.yaml": 8,
    "ld-il2-sle.yaml": 21,
    "ld-il2-sjogren.yaml": 36,
    "ld-il2-t1d.yaml": 5,
    "ld-il2-gvhd.yaml": 56,
}


def test_the_library_is_every_shipped_file():
    assert sorted(p.name for p in PROTOCOLS.glob("*.yaml")) == sorted(EXPECTED_DOSES)


@pytest.mark.parametrize("name", sorted(EXPECTED_DOSES))
def test_each_protocol_loads_activates_and_gives_every_arm_its_calendar(name):
    version = load(name)

    text = (PROTOCOLS / name).read_text(encoding="utf-8")
    assert spec_from_version(version) == parse_protocol(text)  # stored as the file says

    for arm in version.arms.all():
        participant = enrolled_participant(baseline=MONDAY, version=version, arm=arm)
        planned = list(participant.doses.order_by("date"))
        assert len(planned) == EXPECTED_DOSES[name], (name, arm.code)
        assert planned[0].date >= MONDAY
        assert participant.visits.count() == version.visits.count()


def test_the_sle_calendar_is_stored_with_its_rest_weeks_empty():
    version = load("ld-il2-sle.yaml")
    participant = enrolled_participant(
        baseline=MONDAY, version=version, arm=version.arms.get(code="IL2")
    )

    days = list(participant.doses.order_by("date").values_list("study_day", flat=True))
    assert days == [1, 3, 5, 7, 9, 11, 13, 29, 31, 33, 35, 37, 39, 41, 57, 59, 61, 63, 65, 67, 69]


# -- doses by body size -------------------------------------------------------------------------


def test_a_dose_per_m2_waits_for_the_weight_and_height(gvhd):
    _version, participant, _coordinator = gvhd

    dose = participant.doses.order_by("date").first()
    assert (dose.dose, dose.dose_per, dose.dose_per_size) == (None, "m2", Decimal("1.000"))
    assert dose.dose_round_to == Decimal("0.100")
    assert dose.derivation == ""


def test_the_planned_dose_per_m2_is_set_from_height_and_weight(gvhd):
    _version, participant, coordinator = gvhd

    changed = apply_body_size(
        participant=participant,
        weight_kg=Decimal("63.3"),
        height_cm=Decimal("170"),
        user=coordinator,
        reason="Baseline vital signs",
    )

    # √(170 × 63.3 / 3600) = 1.7289 → 1.73 m²; 1 MIU/m² × 1.73 m² = 1.73 → 1.7 MIU.
    assert len(changed) == 56
    dose = participant.doses.order_by("date").first()
    assert dose.dose == Decimal("1.7")
    assert (dose.body_weight_kg, dose.body_height_cm, dose.body_size) == (
        Decimal("63.30"),
        Decimal("170.00"),
        Decimal("1.730"),
    )
    assert dose.derivation == "1 MIU/m² × 1.73 m² = 1.7 MIU (rounded to 0.1 MIU)"
    updated = history_for(dose)[-1]
    assert updated.reason == "Baseline vital signs" and updated.user == "cora"
    assert {c.field for c in updated.changes} >= {"dose", "body_size"}


def test_only_doses_still_planned_follow_a_new_weight(gvhd):
    _version, participant, coordinator = gvhd
    apply_body_size(
        participant=participant,
        weight_kg=Decimal("63.3"),
        height_cm=Decimal("170"),
        user=coordinator,
        reason="Baseline vital signs",
    )
    first = participant.doses.order_by("date").first()
    PlannedDose.objects.filter(pk=first.pk).update(status=DoseStatus.GIVEN)

    # √(170 × 80 / 3600) = √3.7778 = 1.9437 → 1.94 m²; 1 × 1.94 → 1.9 MIU.
    changed = apply_body_size(
        participant=participant,
        weight_kg=Decimal("80"),
        height_cm=Decimal("170"),
        user=coordinator,
        reason="Weight at week 4",
    )

    assert len(changed) == 55
    first.refresh_from_db()
    assert first.dose == Decimal("1.7")
    assert {d.dose for d in changed} == {Decimal("1.9")}


def test_body_size_refusals(gvhd, charlie):
    _version, participant, coordinator = gvhd
    kwargs = {"participant": participant, "weight_kg": Decimal("63.3"), "reason": "Vitals"}

    with pytest.raises(ValidationError) as no_height:
        apply_body_size(user=coordinator, **kwargs)
    assert "height_cm" in no_height.value.message_dict
    with pytest.raises(ValidationError) as no_weight:
        apply_body_size(**{**kwargs, "weight_kg": "-1"}, height_cm=170, user=coordinator)
    assert "weight_kg" in no_weight.value.message_dict
    with pytest.raises(PermissionDenied):
        apply_body_size(user=charlie, height_cm=170, **kwargs)
    assert not participant.doses.filter(dose__isnull=False).exists()


def test_the_dose_log_shows_the_planned_amount_and_its_derivation(gvhd):
    _version, participant, coordinator = gvhd
    client = login(coordinator)
    url = reverse("assessments:doses", args=[participant.pk])

    assert "set from the weight and height" in client.get(url).content.decode()
    apply_body_size(
        participant=participant,
        weight_kg=Decimal("63.3"),
        height_cm=Decimal("170"),
        user=coordinator,
        reason="Baseline vital signs",
    )
    page = client.get(url).content.decode()
    assert "1.7 MIU SC" in page
    assert "1 MIU/m² × 1.73 m² = 1.7 MIU (rounded to 0.1 MIU)" in page

    calendar = client.get(reverse("api-calendar", args=[participant.pk])).json()
    assert str(calendar["doses"][0]["dose"]) == "1.7"
    assert calendar["doses"][0]["derivation"] == (
        "1 MIU/m² × 1.73 m² = 1.7 MIU (rounded to 0.1 MIU)"
    )


# -- the blinded dose-ranging study ------------------------------------------------------------


def t1d_cast(baseline=None):
    version = load("ld-il2-t1d.yaml")
    study = version.study
    baseline = baseline or study.sites.get().today()
    by_arm = {
        arm.code: enrolled_participant(baseline=baseline, version=version, arm=arm)
        for arm in version.arms.all()
    }
    blinded = member(study, "blake", Role.COORDINATOR, blinded=True)
    unblinded = member(study, "una", Role.STUDY_ADMIN)
    return by_arm, blinded, unblinded


@pytest.fixture
def t1d():
    return t1d_cast(MONDAY)


def test_a_blinded_user_cannot_tell_the_arm_from_the_dose_log(t1d):
    by_arm, blinded, unblinded = t1d
    client = login(blinded)

    cells = {}
    for code, participant in by_arm.items():
        page = client.get(reverse("assessments:doses", args=[participant.pk])).content.decode()
        assert "MIU" not in page and "0.33" not in page, code
        assert "study drug SC" in page
        cells[code] = page.count("study drug SC")
    assert set(cells.values()) == {5}
    # The unblinded study admin sees the amounts.
    admin_page = login(unblinded).get(reverse("assessments:doses", args=[by_arm["D033"].pk]))
    assert "0.33 MIU SC" in admin_page.content.decode()


def test_a_blinded_user_cannot_tell_the_arm_from_the_dose_form(t1d):
    by_arm, blinded, _unblinded = t1d
    client = login(blinded)

    for participant in by_arm.values():
        dose = participant.doses.order_by("date").first()
        page = client.get(reverse("assessments:dose", args=[participant.pk, dose.pk]))
        text = page.content.decode()
        assert "MIU" not in text and "0.33" not in text
        assert 'name="actual_dose"' not in text


def test_a_blinded_user_cannot_tell_the_arm_from_the_api(t1d):
    by_arm, blinded, unblinded = t1d
    client = login(blinded)

    answers = [
        client.get(reverse("api-calendar", args=[p.pk])).json()["doses"] for p in by_arm.values()
    ]
    assert all(doses == answers[0] for doses in answers)
    assert {d["dose"] for d in answers[0]} == {"study drug"}
    assert not any("unit" in d for d in answers[0])

    placebo = by_arm["PBO"]
    url = reverse("api-doses", args=[placebo.pk])
    refused = client.post(
        url, {"date": "2025-01-06", "given": True, "dose": "0"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "dose" in refused.json()["errors"]
    given = client.post(url, {"date": "2025-01-06", "given": True}, content_type="application/json")
    assert given.status_code == 201, given.json()
    assert given.json()["dose"] == "study drug" and "unit" not in given.json()
    # Recorded as planned: nothing active for the placebo arm.
    assert placebo.doses.order_by("date").first().administration.actual_dose == 0

    admin = login(unblinded).get(reverse("api-calendar", args=[by_arm["D3"].pk])).json()
    assert admin["doses"][0]["dose"] == 3 and admin["doses"][0]["unit"] == "MIU"


def test_a_blinded_user_cannot_tell_the_arm_from_a_dose_reminder(t1d):
    _by_arm, blinded, _unblinded = t1d

    notifications.sweep(
        now=datetime(2025, 1, 6, 9, 0, tzinfo=ZoneInfo("Europe/Paris")), dispatch=False
    )

    rows = list(Notification.objects.filter(kind="dose_due", recipient=blinded))
    assert len(rows) == 4  # one per participant, one participant per arm
    for row in rows:
        text = f"{row.subject}\n{row.body}\n{row.object_label}"
        assert "MIU" not in text and "0.33" not in text
        assert "study drug SC" in text
    # The same words for every arm, but for the participant's id and link.
    bodies = {
        re.sub(r"/participants/\d+/", "", row.body.replace(row.object_label.split(" ")[0], ""))
        for row in rows
    }
    assert len(bodies) == 1


def test_a_blinded_user_cannot_tell_the_arm_from_the_work_list():
    """The coordinator's doses due today, on the home page and in its "see all" list."""
    _by_arm, blinded, unblinded = t1d_cast()  # every participant's first dose is today
    study = blinded.memberships.get().study
    unblinded_coordinator = member(study, "cora-u", Role.COORDINATOR, blinded=False)

    for url in (reverse("home"), reverse("worklist:section", args=["doses-due"])):
        page = login(blinded).get(url).content.decode()
        admin_page = login(unblinded_coordinator).get(url).content.decode()

        assert page.count("study drug SC") == 4, url
        assert "MIU" not in page and "0.33" not in page, url
        assert "0.33 MIU SC" in admin_page, url


def test_a_blinded_user_cannot_tell_the_arm_from_a_dose_s_audit_trail(t1d):
    by_arm, blinded, unblinded = t1d
    placebo = by_arm["D033"]
    dose = placebo.doses.order_by("date").first()
    client = login(blinded)
    client.post(
        reverse("api-doses", args=[placebo.pk]),
        {"date": "2025-01-06", "given": True},
        content_type="application/json",
    )
    record = dose.administration

    for label, pk in (
        ("patients.planneddose", dose.pk),
        ("assessments.doseadministration", record.pk),
    ):
        trail = client.get(reverse("api-record-history", args=[label, pk])).json()
        fields = {change["field"] for entry in trail for change in entry["changes"]}
        shown = str(trail)
        assert not fields & {"dose", "dose_per_size", "actual_dose"}, label
        assert "0.33" not in shown, shown
        admin_trail = login(unblinded).get(reverse("api-record-history", args=[label, pk]))
        assert "0.33" in str(admin_trail.json()), label


def test_an_amendment_s_doses_by_body_size_follow_the_recorded_weight_and_height(gvhd, tmp_path):
    version, participant, coordinator = gvhd
    apply_body_size(
        participant=participant,
        weight_kg=Decimal("63.3"),
        height_cm=Decimal("170"),
        user=coordinator,
        reason="Baseline vital signs",
    )
    amended = (PROTOCOLS / "ld-il2-gvhd.yaml").read_text(encoding="utf-8")
    amended = amended.replace(
        'label: "1.0", effective: 2009-09-01', 'label: "1.1", effective: 2025-01-15'
    )
    amended = amended.replace(
        "dose: 1, unit: MIU, route: SC, arm: C1", "dose: 2, unit: MIU, route: SC, arm: C1"
    )
    path = tmp_path / "gvhd-1.1.yaml"
    path.write_text(amended, encoding="utf-8")
    call_command("load_protocol", str(path), "--activate")
    new_version = version.study.versions.get(label="1.1")

    reconsent(
        participant=participant,
        version=new_version,
        consent_date=date(2025, 1, 20),
        user=coordinator,
    )

    new_rows = participant.doses.filter(protocol_version=new_version).order_by("date")
    # 2 MIU/m² × 1.73 m² = 3.46 → 3.5 MIU, from day 15 (20 January) on.
    assert new_rows.first().date == date(2025, 1, 20)
    assert {d.dose for d in new_rows} == {Decimal("3.5")}
    assert new_rows.first().derivation == "2 MIU/m² × 1.73 m² = 3.5 MIU (rounded to 0.1 MIU)"


def test_a_blinded_user_cannot_tell_the_arm_from_a_stale_dose_edit(t1d):
    """The refusal of a stale save lists yours vs saved values: never the amounts."""
    from assessments.dosing import record_dose
    from audit.editing import StaleRecord

    by_arm, blinded, _unblinded = t1d
    study = blinded.memberships.get().study
    unblinded_coordinator = member(study, "cora-u", Role.COORDINATOR, blinded=False)
    dose = by_arm["D3"].doses.order_by("date").first()
    first = record_dose(planned_dose=dose, user=blinded, given=True, administered_on=dose.date)
    record_dose(
        planned_dose=dose,
        user=unblinded_coordinator,
        given=True,
        administered_on=dose.date,
        actual_dose="2.5",
        expected_version=first.record.row_version,
        reason="Partial injection",
        confirm=["actual_dose"],
    )

    with pytest.raises(StaleRecord) as refused:
        record_dose(
            planned_dose=dose,
            user=blinded,
            given=True,
            administered_on=dose.date,
            lot="L-2",
            expected_version=first.record.row_version,
            reason="Lot number",
        )

    message = refused.value.message()
    assert "2.5" not in message and "3" not in message.replace("2026", "")
    assert "L-2" in message
