"""A token is read with its user and the user's permissions by one fixed statement
(curation/rest.py TokenAuthentication, curation/userreads.py TokenRead), and answers as
DRF's own TokenAuthentication does: the same user and token, the same 401s; the
permissions kept are those Django's ModelBackend would read."""

import pytest
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


def test_one_query_reads_the_token_the_user_and_their_permissions(django_assert_num_queries):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Group, Permission

    curator = make_user(username="curator", role="Curators")
    curator.user_permissions.add(Permission.objects.get(codename="view_release"))
    extra = Group.objects.create(name="Extra")
    extra.permissions.add(Permission.objects.get(codename="delete_source"))
    curator.groups.add(extra)
    users = {
        "curator, own and two groups": curator,
        "no permission": make_user(username="nobody"),
        "superuser": make_user(username="root", is_superuser=True, is_staff=True),
    }
    for kind, user in users.items():
        key = Token.objects.create(user=user).key
        with django_assert_num_queries(1):
            authenticated, _token = ours(key)
            # Asked next by every write: answered from what the token's query read.
            authenticated.has_perm("treatments.add_therapyevidence")
        expected = ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
        assert authenticated._perm_cache == expected, kind
    assert "findings.delete_source" in ours(Token.objects.get(user=curator).key)[0]._perm_cache


def test_without_djangos_backend_the_permissions_are_not_kept(settings):
    from curation.userreads import fills_permission_cache

    assert fills_permission_cache()
    settings.AUTHENTICATION_BACKENDS = ["mecfs_kb.auth.LockoutBackend"]
    assert not fills_permission_cache()
    user = make_user(username="curator", role="Curators")
    authenticated, _token = ours(Token.objects.create(user=user).key)
    assert not hasattr(authenticated, "_perm_cache")


def test_a_request_with_a_token_is_that_users(api_client):
    curator = make_user(username="curator", role="Curators")
    key = Token.objects.create(user=curator).key
    ok = api_client.get("/api/v1/evidence/", HTTP_AUTHORIZATION=f"Token {key}")
    assert ok.status_code == 200
    refused = api_client.get("/api/v1/evidence/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert refused.status_code == 401
    assert "Invalid token." in refused.content.decode()
