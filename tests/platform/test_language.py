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
