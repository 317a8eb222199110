"""One record's links read by fixed statements (issue 14).

The API reads a record before every edit and review action with its links prefetched
(``Prefetch("contradicted_by", queryset=….only("pk"))``): the ids a response lists. For
a curator or an editor, who sees every record, the prefetch's queryset has no condition
at all, yet Django built and compiled its SQL (the link table joined, the linked model's
ordering) on every request: about 0.65 ms of CPU per link field, the largest part of a
write's read after the record's own. ``prefetch_links`` reads such a link by a statement
written once per process, with the same join and order, and leaves on the record what
Django's prefetch leaves: the linked records with their id only, in the linked model's
order, as the result of the related manager's queryset. Any other prefetch (a condition
of visibility, other columns, nested lookups) goes to Django's ``prefetch_related_objects``
as before. tests/test_link_reads.py compares both ways for every write resource.
"""

from __future__ import annotations

import functools

from django.db import connections
from django.db.models import Model, Prefetch, prefetch_related_objects

from curation.prepared import prepared


def prefetch_links(record: Model, lookups) -> None:
    """Do ``lookups`` (a queryset's ``_prefetch_related_lookups``) for one record."""
    rest = []
    for lookup in lookups:
        read = _link_read(type(record), lookup, record._state.db)
        if read is None:
            rest.append(lookup)
        else:
            read.prefetch(record)
    if rest:
        # One record's links, read by its key: planned once (curation/prepared.py).
        with prepared():
            prefetch_related_objects([record], *rest)


def _link_read(model: type[Model], lookup, alias: str) -> LinkRead | None:
    if not isinstance(lookup, Prefetch) or lookup.queryset is None:
        return None
    name = lookup.prefetch_to
    if lookup.prefetch_through != name or "__" in name:
        return None
    queryset = lookup.queryset
    query = queryset.query
    if (
        query.where
        or query.select_related
        or query.annotations
        or query.extra
        or query.order_by
        or query.distinct
        or not query.default_ordering
        or query.is_sliced
        or queryset._prefetch_related_lookups
    ):
        return None
    names, deferred = query.deferred_loading
    if deferred or set(names) != {queryset.model._meta.pk.name}:
        return None  # not .only("pk")
    return LinkRead.of(model, name, queryset.model, alias)


def keep_prefetched(record: Model, name: str, linked: list[Model]) -> None:
    """Leave ``linked`` on ``record`` as Django's prefetch of its link ``name`` does: the
    result, already read, of the related manager's queryset, so that listing the link
    builds no SQL and anything built on it (``filter()``) queries as usual."""
    manager = getattr(record, name)
    queryset = manager.get_queryset()
    queryset._result_cache, queryset._prefetch_done = linked, True
    record.__dict__.setdefault("_prefetched_objects_cache", {})[manager.prefetch_cache_name] = (
        queryset
    )


class LinkRead:
    """``SELECT <linked id> FROM <linked> JOIN <link table> WHERE <the record> = %s
    ORDER BY <the linked model's ordering>``, or None (``of``) where that ordering is
    not plain fields of the linked model."""

    def __init__(self, name: str, linked_model, alias: str, sql: str):
        self.name = name
        self.linked_model = linked_model
        self.alias = alias
        self.sql = sql

    @classmethod
    @functools.cache
    def of(cls, model, name: str, linked_model, alias: str) -> LinkRead | None:
        field = model._meta.get_field(name)
        if not field.many_to_many or field.auto_created or field.related_model is not linked_model:
            return None
        quote = connections[alias].ops.quote_name
        opts = linked_model._meta
        order = []
        for item in opts.ordering:
            if not isinstance(item, str) or "__" in item or item.startswith("?"):
                return None
            descending = item.startswith("-")
            field_name = item.lstrip("-")
            target = opts.pk if field_name == "pk" else opts.get_field(field_name)
            if not getattr(target, "concrete", False) or target.is_relation:
                return None
            order.append(f"l.{quote(target.column)} {'DESC' if descending else 'ASC'}")
        through = field.remote_field.through._meta.db_table
        sql = (
            f"SELECT l.{quote(opts.pk.column)} FROM {quote(opts.db_table)} l "
            f"INNER JOIN {quote(through)} x "
            f"ON l.{quote(opts.pk.column)} = x.{quote(field.m2m_reverse_name())} "
            f"WHERE x.{quote(field.m2m_column_name())} = %s"
        )
        if order:
            sql += " ORDER BY " + ", ".join(order)
        return cls(name, linked_model, alias, sql)

    def prefetch(self, record: Model) -> None:
        with connections[self.alias].cursor() as cursor, prepared():
            cursor.execute(self.sql, [record.pk])
            ids = [row[0] for row in cursor.fetchall()]
        pk_name = self.linked_model._meta.pk.attname
        linked = [self.linked_model.from_db(self.alias, [pk_name], (pk,)) for pk in ids]
        keep_prefetched(record, self.name, linked)
