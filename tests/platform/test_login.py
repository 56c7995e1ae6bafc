"""Logging in and out, lockout after repeated failures, Argon2, idle sessions."""

from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD


def test_the_login_page_is_served(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_a_user_logs_in_and_lands_on_the_home_page(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert b"Your studies" in response.content


def test_a_wrong_password_is_refused_with_a_message(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content


def test_passwords_are_hashed_with_argon2(db, settings):
    from django.contrib.auth.hashers import make_password

    from config import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    assert make_password("a passphrase").startswith("argon2")


def test_logout_ends_the_session(client_for, alice):
    client = client_for(alice)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_sessions_expire_after_inactivity():
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert 0 < settings.SESSION_COOKIE_AGE <= 60 * 60
