"""A user, their token and their permissions read by fixed statements (issue 14).

Every request with a token reads the token with its user, then the user's permissions.
Built by the ORM, the two queries cost about 1.3 ms of CPU per request, most of it
building SQL that never changes; here each statement is written once per process from
the tables' and columns' names (``_meta``, quoted by the backend), and executed with new
parameters. The answers are the ORM's: the rows go through the converters the ORM
applies to each column, and become records through ``Model.from_db``
(tests/test_token_authentication.py, tests/test_permissions_backend.py).
"""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.contrib.auth import get_user_model, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections


@functools.cache
def permissions_sql(
    alias: str, *, superuser: bool = False, user: str = "%s", joined: bool = False
) -> str:
    """``SELECT app_label, codename`` of every permission (a superuser), or of those a
    user holds, their own or through a group. ``user`` is the SQL of the user's id: by
    default a parameter, given twice. ``joined``: one column, ``permission``, holding
    ``app_label.codename`` as Django names a permission."""
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

    app_label = f"ct.{column(ContentType, 'app_label')}"
    codename = f"p.{column(Permission, 'codename')}"
    selected = (
        f"{app_label} || '.' || {codename} AS permission" if joined else f"{app_label}, {codename}"
    )
    sql = (
        f"SELECT {selected} FROM {table(Permission)} p "
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
        f"(SELECT o.{own_permission} FROM {own} o WHERE o.{own_user} = {user}) "
        f"OR {permission_id} IN "
        f"(SELECT gp.{group_perms_permission} FROM {group_perms} gp "
        f"INNER JOIN {groups} ug ON ug.{groups_group} = gp.{group_perms_group} "
        f"WHERE ug.{groups_user} = {user})"
    )


def fills_permission_cache() -> bool:
    """Whether the permissions read with a token are kept as the user's permission
    cache: where a backend is Django's ModelBackend or built on it (mecfs_kb/auth.py
    PermissionsBackend), whose cache (``_perm_cache``) holds exactly every permission
    of an active user, their own and their groups'. No other backend reads it."""
    return _fills_permission_cache(tuple(settings.AUTHENTICATION_BACKENDS))


@functools.cache
def _fills_permission_cache(backends: tuple[str, ...]) -> bool:
    return any(isinstance(load_backend(path), ModelBackend) for path in backends)


class TokenRead:
    """The statement reading a token by its key (one parameter) with its user, every
    column of both, and with ``permissions`` the user's permissions too (on PostgreSQL
    and SQLite, as one array or JSON list), and how its row becomes the records: each
    value through the converters the ORM would apply to its column (SQLite's booleans
    and datetimes), then ``Model.from_db`` as the ORM builds a record, the user cached
    on the token and the permissions as the user's permission cache."""

    def __init__(self, alias: str, token_model, permissions: bool):
        connection = connections[alias]
        quote = connection.ops.quote_name
        self.alias = alias
        self.token_model = token_model
        self.user_field = token_model._meta.get_field("user")
        self.user_model = self.user_field.related_model
        self.token_fields = list(token_model._meta.concrete_fields)
        self.user_fields = list(self.user_model._meta.concrete_fields)
        columns = [("t", f) for f in self.token_fields] + [("u", f) for f in self.user_fields]
        self.converters = []
        for _table, field in columns:
            col = field.get_col(field.model._meta.db_table)
            converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            self.converters.append((converters, col))
        selected = [f"{table}.{quote(f.column)}" for table, f in columns]
        self.permissions = (
            permissions
            and connection.vendor in ("postgresql", "sqlite")
            and any(f.name == "is_superuser" for f in self.user_fields)
        )
        if self.permissions:
            user_id = f"u.{quote(self.user_model._meta.pk.column)}"
            superuser = f"u.{quote(self.user_model._meta.get_field('is_superuser').column)}"
            every = self._listed(connection, permissions_sql(alias, superuser=True, joined=True))
            held = self._listed(connection, permissions_sql(alias, user=user_id, joined=True))
            selected.append(f"CASE WHEN {superuser} THEN {every} ELSE {held} END")
        key_column = quote(token_model._meta.get_field("key").column)
        self.sql = (
            f"SELECT {', '.join(selected)} "
            f"FROM {quote(token_model._meta.db_table)} t "
            f"INNER JOIN {quote(self.user_model._meta.db_table)} u "
            f"ON u.{quote(self.user_model._meta.pk.column)} = t.{quote(self.user_field.column)} "
            f"WHERE t.{key_column} = %s"
        )

    @staticmethod
    def _listed(connection, sql: str) -> str:
        """The one-column rows of ``sql`` as one value: an array on PostgreSQL, a JSON
        list on SQLite."""
        if connection.vendor == "postgresql":
            return f"ARRAY({sql})"
        return f"(SELECT json_group_array(permission) FROM ({sql}))"

    @classmethod
    @functools.cache
    def of(cls, alias: str, token_model, permissions: bool) -> TokenRead:
        return cls(alias, token_model, permissions)

    def records(self, row):
        connection = connections[self.alias]
        values = []
        for value, (converters, col) in zip(
            row[: len(self.converters)], self.converters, strict=True
        ):
            for converter in converters:
                value = converter(value, col, connection)
            values.append(value)
        split = len(self.token_fields)
        token = self.token_model.from_db(
            self.alias, [f.attname for f in self.token_fields], values[:split]
        )
        user = self.user_model.from_db(
            self.alias, [f.attname for f in self.user_fields], values[split:]
        )
        self.user_field.set_cached_value(token, user)
        if self.permissions:
            held = row[len(self.converters)]
            if isinstance(held, str):
                held = json.loads(held)
            user._perm_cache = set(held)
        return token, user
