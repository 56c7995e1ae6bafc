"""Who sees what: memberships decide, and a user outside a study sees nothing of it."""

from django.urls import reverse

from trials import access
from trials.models import Site, Study


def test_a_coordinator_sees_her_study_and_only_her_site(alice, site_a, site_b, study):
    assert list(Study.objects.visible_to(alice)) == [study]
    assert list(Site.objects.visible_to(alice)) == [site_a]


def test_an_all_sites_investigator_sees_every_site_of_his_study(ivan, site_a, site_b):
    assert set(Site.objects.visible_to(ivan)) == {site_a, site_b}


def test_a_user_without_membership_sees_no_study_and_no_site(charlie, study, site_a):
    assert not Study.objects.visible_to(charlie).exists()
    assert not Site.objects.visible_to(charlie).exists()


def test_an_inactive_membership_gives_no_access(alice, study):
    alice.memberships.update(is_active=False)
    assert not Study.objects.visible_to(alice).exists()


def test_roles_are_limited_to_the_sites_they_cover(alice, site_a, site_b, study):
    assert access.has_role(alice, study, ["coordinator"], site=site_a)
    assert not access.has_role(alice, study, ["coordinator"], site=site_b)
    assert not access.has_role(alice, study, ["investigator"], site=site_a)


def test_blinding_follows_the_membership_flag_in_a_blinded_study(blake, blind_study, sam, study):
    assert access.is_blinded(blake, blind_study)
    assert not access.is_blinded(sam, study)


def test_the_study_page_answers_404_to_a_user_outside_the_study(client_for, charlie, study):
    response = client_for(charlie).get(reverse("trials:study", args=[study.code]))
    assert response.status_code == 404


def test_the_study_page_lists_only_the_visitors_sites(client_for, alice, site_a, site_b, study):
    response = client_for(alice).get(reverse("trials:study", args=[study.code]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Site A" in body
    assert "Site B" not in body


def test_each_role_is_shown_its_role_on_the_home_page(client_for, alice, ivan, mona, sam):
    for user, role in [
        (alice, "Study coordinator"),
        (ivan, "Investigator"),
        (mona, "Monitor"),
        (sam, "Study admin"),
    ]:
        body = client_for(user).get(reverse("home")).content.decode()
        assert role in body, user
        assert 'data-study="RP"' in body


def test_only_the_study_admin_is_offered_protocol_configuration(client_for, alice, sam):
    assert "Configure protocol" in client_for(sam).get(reverse("home")).content.decode()
    assert "Configure protocol" not in client_for(alice).get(reverse("home")).content.decode()


def test_the_home_page_of_a_user_without_membership_lists_no_study(client_for, charlie, study):
    body = client_for(charlie).get(reverse("home")).content.decode()
    assert 'id="no-membership"' in body
    assert "data-study=" not in body
    assert study.title not in body


def test_pages_require_login(client, study):
    response = client.get(reverse("trials:study", args=[study.code]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_api_refuses_anonymous_users(client, study):
    url = reverse("api-record-history", args=["trials.study", study.pk])
    assert client.get(url).status_code == 403
