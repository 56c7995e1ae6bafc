"""`seed_demo` gives a user per role and can be run again without harm."""

from django.contrib.auth import get_user_model
from django.core.management import call_command

from trials import access
from trials.models import Membership, Study


def test_seed_demo_creates_a_user_per_role_and_is_idempotent(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    User = get_user_model()
    assert set(User.objects.values_list("username", flat=True)) >= {
        "coordinator",
        "investigator",
        "monitor",
        "studyadmin",
        "blinded",
        "outsider",
    }
    assert Study.objects.filter(code__in=["LDIL2-RP", "LDIL2-MOOD"]).count() == 2
    assert Membership.objects.filter(user__username="coordinator").count() == 2
    assert not Membership.objects.filter(user__username="outsider").exists()
    mood = Study.objects.get(code="LDIL2-MOOD")
    assert access.is_blinded(User.objects.get(username="blinded"), mood)
    assert not access.is_blinded(User.objects.get(username="studyadmin"), mood)
    from patients.models import RandomisationList

    assert RandomisationList.objects.filter(study=mood).count() == 2  # strata MDD and BD
    from patients.models import Participant

    assert Participant.objects.filter(study__code="LDIL2-RP", status="enrolled").count() == 3
    assert Participant.objects.filter(study__code="LDIL2-RP", status="screen_failed").count() == 1
    assert Participant.objects.get(screening_number="MD-S001").arm is not None
    week_nine = Participant.objects.get(screening_number="RP-S001")  # baseline 60 days ago
    assert week_nine.doses.filter(status="given").count() > 20
    assert week_nine.visits.filter(status="done").count() == 3  # W0, W4, W8
    # The taper counts the concomitant hydrocortisone (10 mg = 2.5 mg prednisone) too.
    totals = week_nine.steroid_doses.order_by("date").values_list(
        "prednisone_eq_mg", "total_prednisone_eq_mg"
    )
    assert [(float(own), float(total)) for own, total in totals] == [
        (20, 22.5),
        (15, 17.5),
        (10, 12.5),
    ]
    out = capsys.readouterr().out
    assert "il2-demo-password" in out
