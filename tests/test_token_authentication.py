"""A token is read by one fixed statement (curation/rest.py TokenAuthentication), and
answers as DRF's own TokenAuthentication does: the same user and token, the same 401s."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from curation.rest import TokenAuthentication
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def drfs(key):
    return authentication.TokenAuthentication().authenticate_credentials(key)


def ours(key):
    return TokenAuthentication().authenticate_credentials(key)


def outcome(authenticate, key):
    try:
        user, token = authenticate(key)
    except exceptions.AuthenticationFailed as exc:
        return ("refused", str(exc.detail), exc.status_code)
    fields = [f.attname for f in type(user)._meta.concrete_fields]
    return (
        "accepted",
        {name: getattr(user, name) for name in fields},
        (token.key, token.user_id, token.created),
        token.user is user,
    )


def test_the_same_answer_as_drfs_for_every_kind_of_key():
    curator = make_user(username="curator", role="Curators", first_name="Ada", email="a@b.org")
    inactive = make_user(username="gone", role="Curators", is_active=False)
    root = make_user(username="root", is_superuser=True, is_staff=True)
    keys = {
        "a curator's": Token.objects.create(user=curator).key,
        "an inactive user's": Token.objects.create(user=inactive).key,
        "a superuser's": Token.objects.create(user=root).key,
        "no one's": "0" * 40,
        "too long": "f" * 400,
        "empty": "",
    }
    answers = {kind: outcome(ours, key) for kind, key in keys.items()}
    for kind, key in keys.items():
        assert answers[kind] == outcome(drfs, key), kind
    assert answers["a curator's"][0] == "accepted"
    assert answers["a curator's"][1]["username"] == "curator"
    assert answers["a curator's"][3] is True  # the token's user is the user returned
    assert answers["an inactive user's"] == ("refused", "User inactive or deleted.", 401)
    assert answers["no one's"] == ("refused", "Invalid token.", 401)


def test_one_query_and_the_users_permissions_still_read(django_assert_num_queries):
    curator = make_user(username="curator", role="Curators")
    key = Token.objects.create(user=curator).key
    with django_assert_num_queries(1):
        user, _token = ours(key)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("treatments.add_therapyevidence")
        assert not user.has_perm("treatments.review_therapyevidence")
    assert len(queries.captured_queries) == 1


def test_a_request_with_a_token_is_that_users(api_client):
    curator = make_user(username="curator", role="Curators")
    key = Token.objects.create(user=curator).key
    ok = api_client.get("/api/v1/evidence/", HTTP_AUTHORIZATION=f"Token {key}")
    assert ok.status_code == 200
    refused = api_client.get("/api/v1/evidence/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert refused.status_code == 401
    assert "Invalid token." in refused.content.decode()
