"""The permissions backend (mecfs_kb/auth.py PermissionsBackend) reads a user's own and
group permissions in one query, and answers exactly as Django's ModelBackend does."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission

from mecfs_kb.auth import PermissionsBackend
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def own(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def team(name: str, *codenames: str) -> Group:
    group = Group.objects.create(name=name)
    group.permissions.add(*Permission.objects.filter(codename__in=codenames))
    return group


def kinds_of_user() -> dict:
    """One user of each kind the answer depends on."""
    both = make_user(username="both", role="Curators")
    own(both, "view_release", "add_therapy")  # add_therapy: also through the group
    extra = team("Readers of releases", "view_release", "delete_source")
    both.groups.add(extra)
    own_only = make_user(username="own-only")
    own(own_only, "change_source")
    inactive = make_user(username="inactive", role="Editors", is_active=False)
    own(inactive, "view_release")
    return {
        "no permission": make_user(username="nobody"),
        "own permissions only": own_only,
        "curator (group only)": make_user(username="curator", role="Curators"),
        "editor (group only)": make_user(username="editor", role="Editors"),
        "own, two groups, overlapping": both,
        "inactive": inactive,
        "superuser": make_user(username="root", is_superuser=True, is_staff=True),
    }


def fresh(user):
    """The user read again: no permission cache from an earlier call."""
    return get_user_model().objects.get(pk=user.pk)


def test_the_same_permissions_as_djangos_backend_for_every_kind_of_user():
    users = kinds_of_user()
    for kind, user in users.items():
        expected = ModelBackend().get_all_permissions(fresh(user))
        assert PermissionsBackend().get_all_permissions(fresh(user)) == expected, kind
    # The table is not trivially equal: the kinds differ from each other.
    answers = {
        kind: frozenset(PermissionsBackend().get_all_permissions(fresh(user)))
        for kind, user in users.items()
    }
    assert answers["no permission"] == answers["inactive"] == frozenset()
    assert answers["own permissions only"] == {"findings.change_source"}
    assert answers["superuser"] == {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.all()
    }
    assert answers["curator (group only)"] < answers["own, two groups, overlapping"]
    codenames = {p.split(".", 1)[1] for p in answers["own, two groups, overlapping"]}
    assert {"view_release", "delete_source", "add_therapy"} <= codenames


def test_has_perm_answers_alike_for_each_permission_and_user():
    users = kinds_of_user()
    codenames = [
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    ]
    for kind, user in users.items():
        ours, django = fresh(user), fresh(user)
        for codename in codenames:
            assert PermissionsBackend().has_perm(ours, codename) == ModelBackend().has_perm(
                django, codename
            ), (kind, codename)
    anonymous = AnonymousUser()
    assert PermissionsBackend().get_all_permissions(anonymous) == set()
    assert not PermissionsBackend().has_perm(anonymous, "treatments.add_therapy")


def test_one_query_then_none_for_the_rest_of_the_request(django_assert_num_queries):
    user = kinds_of_user()["own, two groups, overlapping"]
    user = fresh(user)
    with django_assert_num_queries(1):
        first = user.get_all_permissions()
        assert user.has_perm("treatments.add_therapy")
    with django_assert_num_queries(0):
        assert user.get_all_permissions() == first
        assert user.has_perms(["treatments.add_therapy", "findings.delete_source"])


def test_object_permissions_are_not_model_permissions():
    user = fresh(kinds_of_user()["curator (group only)"])
    therapy_permission = "treatments.add_therapy"
    assert PermissionsBackend().has_perm(user, therapy_permission)
    assert not PermissionsBackend().has_perm(user, therapy_permission, obj=object())
