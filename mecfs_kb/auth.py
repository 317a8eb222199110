"""Authentication backends: login brute-force protection (django-axes) for every login
that comes with a request, and the users' permissions read in one query."""

import functools

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend, quiet when there is no request to count against.

    Logins over HTTP (the admin login form, DRF's basic or session login) always pass
    the request, so they are counted and refused during the cool-off. Only in-process
    callers without a request (the test client's ``login()``, a shell) reach here with
    ``request=None``; axes would raise, so this backend stands aside and lets the next
    backend check the password as usual."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PermissionsBackend(ModelBackend):
    """Django's ModelBackend, reading a user's permissions in one query instead of two.

    Every authenticated API request asks for a permission (DRF's model permissions, the
    visibility of drafts), and ModelBackend reads the user's own permissions and their
    groups' in two queries. This reads both at once, as one fixed statement
    (``permissions_sql``, written once per process from the tables' names): building it
    with the ORM cost about 0.8 ms of CPU per request, most of a curator's permission
    check (issue 14). The answer, and its cache on the user object for the rest of the
    request, are the same (tests/test_permissions_backend.py compares them with
    ModelBackend's for every kind of user)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            alias = router.db_for_read(Permission, instance=user_obj)
            with connections[alias].cursor() as cursor:
                if user_obj.is_superuser:
                    cursor.execute(permissions_sql(alias, superuser=True))
                else:
                    cursor.execute(permissions_sql(alias), [user_obj.pk, user_obj.pk])
                rows = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


@functools.cache
def permissions_sql(alias: str, *, superuser: bool = False) -> str:
    """``SELECT app_label, codename`` of every permission (a superuser), or of those a
    user holds, their own or through a group (two parameters: the user's id twice)."""
    quote = connections[alias].ops.quote_name
    user_model = get_user_model()

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    def m2m(model, name: str):
        """The link table of ``model.<name>``, its column to ``model``, its column to
        the other side."""
        field = model._meta.get_field(name)
        through = field.remote_field.through
        return (
            table(through),
            quote(field.m2m_column_name()),
            quote(field.m2m_reverse_name()),
        )

    sql = (
        f"SELECT ct.{column(ContentType, 'app_label')}, p.{column(Permission, 'codename')} "
        f"FROM {table(Permission)} p "
        f"INNER JOIN {table(ContentType)} ct "
        f"ON ct.{quote(ContentType._meta.pk.column)} = p.{column(Permission, 'content_type')}"
    )
    if superuser:
        return sql
    own, own_user, own_permission = m2m(user_model, "user_permissions")
    groups, groups_user, groups_group = m2m(user_model, "groups")
    group_perms, group_perms_group, group_perms_permission = m2m(Group, "permissions")
    permission_id = f"p.{quote(Permission._meta.pk.column)}"
    return (
        f"{sql} WHERE {permission_id} IN "
        f"(SELECT o.{own_permission} FROM {own} o WHERE o.{own_user} = %s) "
        f"OR {permission_id} IN "
        f"(SELECT gp.{group_perms_permission} FROM {group_perms} gp "
        f"INNER JOIN {groups} ug ON ug.{groups_group} = gp.{group_perms_group} "
        f"WHERE ug.{groups_user} = %s)"
    )
