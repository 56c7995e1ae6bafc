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


def _stored_session(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key)


def test_an_idle_session_ends_after_the_idle_time(client, alice):
    """21 CFR Part 11 automatic logoff: a session nobody used for SESSION_COOKIE_AGE is over."""
    from datetime import timedelta

    from django.utils import timezone

    assert 0 < settings.SESSION_COOKIE_AGE <= 60 * 60
    client.force_login(alice)
    assert client.get(reverse("home")).status_code == 200
    stored = _stored_session(client)
    stored.expire_date = timezone.now() - timedelta(seconds=1)
    stored.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_activity_pushes_the_end_of_the_session_back(client, alice, monkeypatch):
    """A page seen a minute or more after the session was last written moves its end to a
    full idle time from now."""
    import time as real_time
    from datetime import timedelta

    from django.utils import timezone

    from accounts import sessions

    client.force_login(alice)
    client.get(reverse("home"))
    stored = _stored_session(client)
    stored.expire_date = timezone.now() + timedelta(minutes=5)  # written long ago
    stored.save()
    later = real_time.time() + sessions.TOUCH_SECONDS
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    client.get(reverse("password_change_done"))
    full = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 5)
    assert _stored_session(client).expire_date >= full


def test_pages_seen_within_a_minute_do_not_rewrite_the_session(client, alice):
    """Rewriting the session on every page costs three queries a page (BEGIN, UPDATE,
    COMMIT) for an expiry that only needs minute precision."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    client.get(reverse("password_change_done"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("password_change_done"))
    assert not [q for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_a_login_writes_its_new_session_once(client, alice):
    """Django's database store inserts the new session as the login starts, after asking
    whether its random key is taken, then updates it with what the login put in it: three
    statements (and two transactions) where one insert will do. The session works as
    before: the next page knows the user."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    writes = ("INSERT INTO", "UPDATE", "DELETE FROM")
    touching = [
        next((w for w in writes if f'{w} "django_session"' in q["sql"]), "SELECT")
        for q in queries
        if "django_session" in q["sql"]
    ]
    assert touching == ["INSERT INTO"], touching
    assert client.get(reverse("password_change_done")).status_code == 200
    assert _stored_session(client).get_decoded()["_auth_user_id"] == str(alice.pk)


def test_a_new_session_whose_key_is_taken_gets_another(client, alice, monkeypatch):
    """The key is not looked up before the insert: the insert itself refuses a key in use,
    and the session is given another."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts import sessions

    Session.objects.create(session_key="k" * 32, session_data="", expire_date=timezone.now())
    keys = iter(["k" * 32, "n" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *a, **k: next(keys))
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == "n" * 32
    assert _stored_session(client).get_decoded()["_auth_user_id"] == str(alice.pk)
