"""API tokens: made and revoked by their owner on a page, the key shown once, expiring,
revoked by a password change, and never working for a locked or deactivated account."""

import re
from datetime import timedelta

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import issue_token
from tests.factories import PASSWORD

STUDIES = "/api/v1/studies/"
#: Session authentication comes first, so the API answers a refused token as it answers
#: an anonymous call (403 with a detail), as the API contract says.
REFUSED = 403


def call(key):
    return Client().get(STUDIES, headers={"Authorization": f"Token {key}"})


def create_on_page(client, name="lab import"):
    response = client.post(reverse("api-tokens"), {"name": name})
    assert response.status_code == 200
    return re.search(r'id="new-token-key"[^>]*>([0-9a-f]{40})<', response.content.decode())


def test_a_user_creates_a_token_on_the_page_and_sees_its_key_once(alice, client_for):
    client = client_for(alice)
    match = create_on_page(client)
    assert match, "the new key is shown"
    key = match.group(1)
    assert call(key).status_code == 200
    listing = client.get(reverse("api-tokens")).content.decode()
    assert "lab import" in listing
    assert key not in listing
    assert not ApiToken.objects.filter(digest=key).exists()  # only a digest is stored


def test_a_user_revokes_their_token_on_the_page(alice, client_for):
    token, key = issue_token(user=alice, name="script")
    client = client_for(alice)
    response = client.post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 302
    assert call(key).status_code == REFUSED


def test_nobody_revokes_or_sees_someone_elses_token(alice, ivan, client_for):
    token, key = issue_token(user=alice, name="alice's script")
    client = client_for(ivan)
    assert "alice's script" not in client.get(reverse("api-tokens")).content.decode()
    assert client.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    assert call(key).status_code == 200


def test_a_token_expires_after_the_configured_days(alice, settings):
    assert settings.API_TOKEN_DAYS == 30
    token, key = issue_token(user=alice, name="script")
    assert token.expires_at - token.created_at == timedelta(days=30)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = call(key)
    assert answer.status_code == REFUSED
    assert "expired" in answer.json()["detail"]


def test_a_password_change_revokes_the_users_tokens(alice, client_for):
    _token, key = issue_token(user=alice, name="script")
    response = client_for(alice).post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-passphrase-42",
            "new_password2": "a-new-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert call(key).status_code == REFUSED


def test_a_deactivated_users_token_stops_working(alice):
    _token, key = issue_token(user=alice, name="script")
    alice.is_active = False
    alice.save()
    assert call(key).status_code == REFUSED


def test_a_locked_users_token_stops_working(alice):
    _token, key = issue_token(user=alice, name="script")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(reverse("login"), {"username": "alice", "password": "wrong"})
    answer = call(key)
    assert answer.status_code == REFUSED
    assert "locked" in answer.json()["detail"]


def test_an_unknown_key_is_refused(db):
    assert call("0" * 40).status_code == REFUSED


def test_the_token_page_needs_login(client, db):
    assert client.get(reverse("api-tokens")).status_code == 302
