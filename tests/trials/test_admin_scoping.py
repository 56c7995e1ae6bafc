"""A study admin administers their own studies only, never their own membership.

Every admin form is posted to as a browser would (add and change views), so that choices,
querysets and saved values are all checked: sam administers RP; MOOD is someone else's.
"""

import pytest
from django.urls import reverse

from audit.history import history_for
from tests.factories import MembershipFactory, UserFactory
from tests.trials.helpers_admin import empty_inlines, study_admin
from trials.models import Membership, ProtocolVersion, Role


@pytest.fixture
def sam_staff(study, site_a):
    return study_admin("sam", study)


@pytest.fixture
def other_study(blind_study, site_m):
    study_admin("otto", blind_study)
    return blind_study


def add_membership(client, **values):
    data = {"reason": "New coordinator at site A"} | values
    return client.post(reverse("admin:trials_membership_add"), data)


def test_the_membership_form_offers_only_the_studies_and_sites_the_user_administers(
    sam_staff, other_study, study, client_for
):
    page = client_for(sam_staff).get(reverse("admin:trials_membership_add"))

    form = page.context["adminform"].form
    assert list(form.fields["study"].queryset) == [study]
    assert {site.study for site in form.fields["site"].queryset} == {study}


def test_a_membership_in_another_study_cannot_be_saved(sam_staff, other_study, client_for):
    newcomer = UserFactory(username="nina")

    for user in (newcomer, sam_staff):
        response = add_membership(
            client_for(sam_staff), user=user.pk, study=other_study.pk, role=Role.STUDY_ADMIN
        )
        assert response.status_code == 200
        assert "study" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(study=other_study, user__in=[newcomer, sam_staff])


def test_a_membership_of_another_study_cannot_be_opened_or_changed(
    sam_staff, other_study, client_for
):
    theirs = Membership.objects.get(study=other_study)
    url = reverse("admin:trials_membership_change", args=[theirs.pk])
    client = client_for(sam_staff)

    assert client.get(url).status_code in (302, 404)
    client.post(url, {"reason": "takeover", "role": Role.MONITOR, "is_active": ""})
    theirs.refresh_from_db()
    assert theirs.role == Role.STUDY_ADMIN and theirs.is_active


def test_nobody_adds_a_membership_for_themselves(sam_staff, study, client_for):
    response = add_membership(
        client_for(sam_staff), user=sam_staff.pk, study=study.pk, role="monitor"
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=sam_staff, role=Role.MONITOR).exists()


def test_nobody_changes_their_own_membership(sam_staff, study, client_for):
    mine = Membership.objects.get(user=sam_staff)
    url = reverse("admin:trials_membership_change", args=[mine.pk])

    response = client_for(sam_staff).post(
        url, {"reason": "promote myself", "role": Role.INVESTIGATOR, "is_active": "on"}
    )

    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.role == Role.STUDY_ADMIN


def test_a_blinded_study_admin_cannot_clear_their_own_or_anyone_elses_blinding(
    blind_study, site_m, client_for
):
    bob = study_admin("bob", blind_study, blinded=True)
    carla = MembershipFactory(
        user=UserFactory(username="carla"),
        study=blind_study,
        role=Role.COORDINATOR,
        is_blinded=True,
    )
    client = client_for(bob)
    for membership in (Membership.objects.get(user=bob), carla):
        client.post(
            reverse("admin:trials_membership_change", args=[membership.pk]),
            {
                "reason": "unblind",
                "user": membership.user_id,
                "study": blind_study.pk,
                "role": membership.role,
                "is_active": "on",
                "is_blinded": "",
            },
        )
        membership.refresh_from_db()
        assert membership.is_blinded


def test_a_new_membership_of_a_blinded_study_is_blinded(blind_study, site_m, client_for):
    una = study_admin("una", blind_study)
    newcomer = UserFactory(username="nina")

    response = add_membership(
        client_for(una),
        user=newcomer.pk,
        study=blind_study.pk,
        role=Role.STUDY_ADMIN,
        is_blinded="",
    )

    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer).is_blinded
    created = Membership.objects.create(user=UserFactory(), study=blind_study, role="monitor")
    assert created.is_blinded


def test_a_membership_change_needs_a_reason_that_goes_into_the_trail(
    sam_staff, study, alice, client_for
):
    membership = Membership.objects.get(user=alice)
    url = reverse("admin:trials_membership_change", args=[membership.pk])
    client = client_for(sam_staff)
    values = {"site": membership.site_id, "role": Role.COORDINATOR, "is_active": ""}

    refused = client.post(url, values | {"reason": ""})
    assert refused.status_code == 200
    assert "reason" in refused.context["adminform"].form.errors
    membership.refresh_from_db()
    assert membership.is_active

    saved = client.post(url, values | {"reason": "Left the hospital"})
    assert saved.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    last = history_for(membership)[-1]
    assert (last.user, last.reason) == ("sam", "Left the hospital")


def unblind_action(client, membership, reason):
    return client.post(
        reverse("admin:trials_membership_changelist"),
        {
            "action": "unblind",
            "_selected_action": [membership.pk],
            "confirm": "yes",
            "reason": reason,
        },
    )


def test_another_unblinded_study_admin_unblinds_a_membership_with_a_reason(
    blind_study, site_m, client_for
):
    una = study_admin("una", blind_study)
    stat = MembershipFactory(
        user=UserFactory(username="stat"), study=blind_study, role=Role.MONITOR, is_blinded=True
    )
    client = client_for(una)

    asked = client.post(
        reverse("admin:trials_membership_changelist"),
        {"action": "unblind", "_selected_action": [stat.pk]},
    )
    assert asked.status_code == 200  # the confirmation page asks for the reason
    stat.refresh_from_db()
    assert stat.is_blinded

    unblind_action(client, stat, "")
    stat.refresh_from_db()
    assert stat.is_blinded

    unblind_action(client, stat, "Unblinded statistician for the DSMB")
    stat.refresh_from_db()
    assert not stat.is_blinded
    last = history_for(stat)[-1]
    assert last.user == "una" and "Unblinded statistician for the DSMB" in last.reason


def test_a_blinded_study_admin_cannot_unblind_anyone_nor_anyone_themselves(
    blind_study, site_m, client_for
):
    bob = study_admin("bob", blind_study, blinded=True)
    stat = MembershipFactory(
        user=UserFactory(username="stat"), study=blind_study, role=Role.MONITOR, is_blinded=True
    )
    unblind_action(client_for(bob), stat, "please")
    stat.refresh_from_db()
    assert stat.is_blinded

    una = study_admin("una", blind_study)
    own = MembershipFactory(user=una, study=blind_study, role=Role.MONITOR, is_blinded=True)
    unblind_action(client_for(una), own, "myself")
    own.refresh_from_db()
    assert own.is_blinded


def test_a_draft_version_cannot_be_added_to_another_study(sam_staff, other_study, client_for):
    client = client_for(sam_staff)
    page = client.get(reverse("admin:trials_protocolversion_add"))
    assert other_study not in page.context["adminform"].form.fields["study"].queryset

    response = client.post(
        reverse("admin:trials_protocolversion_add"),
        {"study": other_study.pk, "label": "9.9", "effective_date": "2026-01-01", "drug": "x"}
        | empty_inlines(),
    )

    assert response.status_code == 200
    assert not ProtocolVersion.objects.filter(study=other_study).exists()


def test_the_admin_lists_name_no_other_study(sam_staff, other_study, client_for):
    client = client_for(sam_staff)
    for name in ("membership", "protocolversion", "study"):
        body = client.get(reverse(f"admin:trials_{name}_changelist")).content.decode()
        assert other_study.code not in body, name


def upload(client, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("admin:trials_protocolversion_upload"),
        {"file": SimpleUploadedFile("p.yaml", text.encode())},
    )


def test_a_study_admin_cannot_upload_a_protocol_for_a_study_they_do_not_administer(
    sam_staff, client_for
):
    from tests.factories import PROTOCOL_DIR
    from trials.models import Study

    mood = (PROTOCOL_DIR / "ld-il2-mood.yaml").read_text()

    response = upload(client_for(sam_staff), mood)

    assert response.status_code == 200
    assert "You do not administer study LDIL2-MOOD" in response.content.decode()
    assert not Study.objects.filter(code="LDIL2-MOOD").exists()


def test_a_blinded_study_admin_does_not_get_the_arms_in_the_version_admin(db, client_for):
    from tests.factories import load_demo_protocol

    version = load_demo_protocol("ld-il2-mood.yaml")
    url = reverse("admin:trials_protocolversion_change", args=[version.pk])
    blinded = client_for(study_admin("bob", version.study, blinded=True)).get(url)
    unblinded = client_for(study_admin("una", version.study)).get(url)

    assert blinded.status_code == unblinded.status_code == 200
    assert "arms-TOTAL_FORMS" in unblinded.content.decode()
    body = blinded.content.decode()
    assert "arms-TOTAL_FORMS" not in body
    for arm in version.arms.all():
        assert arm.name not in body
