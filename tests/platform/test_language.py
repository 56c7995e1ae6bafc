"""A user chooses English or Simplified Chinese, for the pages and for their reminders."""

from django.urls import reverse

from accounts.models import Profile, language_of


def test_choosing_a_language_is_remembered_for_pages_and_reminders(client_for, alice):
    client = client_for(alice)
    response = client.post(
        reverse("set-language"), {"language": "zh-hans", "next": reverse("home")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert response.cookies["django_language"].value == "zh-hans"
    assert Profile.objects.get(user=alice).language == "zh-hans"
    alice.refresh_from_db()
    assert language_of(alice) == "zh-hans"


def test_an_unknown_language_is_refused(client_for, alice):
    response = client_for(alice).post(reverse("set-language"), {"language": "xx"})
    assert response.status_code == 400
    assert not Profile.objects.filter(user=alice).exists()


def test_a_foreign_next_address_is_not_followed(client_for, alice):
    response = client_for(alice).post(
        reverse("set-language"), {"language": "en", "next": "https://evil.example.org/"}
    )
    assert response["Location"] == reverse("home")


def test_a_user_who_never_chose_reads_the_deployment_language(alice, settings):
    settings.LANGUAGE_CODE = "en"
    assert language_of(alice) == "en"


def test_the_menu_offers_both_languages(client_for, alice):
    body = client_for(alice).get(reverse("home")).content.decode()
    assert 'value="zh-hans"' in body
    assert 'value="en"' in body


def test_the_login_page_offers_the_languages_and_remembers_the_choice_in_a_cookie(client, db):
    login = reverse("login")
    body = client.get(login).content.decode()
    assert 'id="language-bar"' in body
    assert 'value="zh-hans"' in body
    response = client.post(reverse("set-language"), {"language": "zh-hans", "next": login})
    assert response["Location"] == login
    assert response.cookies["django_language"].value == "zh-hans"
    body = client.get(login).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "登录" in body
    assert not Profile.objects.exists()


def test_the_stored_choice_follows_the_user_to_another_browser(client_for, alice):
    Profile.objects.create(user=alice, language="zh-hans")
    body = client_for(alice).get(reverse("home")).content.decode()  # no cookie on this one
    assert '<html lang="zh-hans">' in body
    assert "退出登录" in body


def test_a_choice_made_while_logged_in_applies_at_once(client_for, alice):
    client = client_for(alice)
    client.post(reverse("set-language"), {"language": "zh-hans", "next": reverse("home")})
    client.cookies.pop("django_language")  # the profile, not the cookie, decides
    assert '<html lang="zh-hans">' in client.get(reverse("home")).content.decode()
    client.post(reverse("set-language"), {"language": "en", "next": reverse("home")})
    assert '<html lang="en">' in client.get(reverse("home")).content.decode()
