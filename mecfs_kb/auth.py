"""Authentication backends: login brute-force protection (django-axes) for every login
that comes with a request, and the users' permissions read in one query."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connections, router

from curation.userreads import permissions_sql


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
    (curation/userreads.py ``permissions_sql``, written once per process from the
    tables' names): building it with the ORM cost about 0.8 ms of CPU per request, most
    of a curator's permission check (issue 14). A request with a token has them already:
    they are read with the token (``TokenRead``). The answer, and its cache on the user
    object for the rest of the request, are the same (tests/test_permissions_backend.py
    compares them with ModelBackend's for every kind of user)."""

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
