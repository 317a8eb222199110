"""Querysets whose SQL is the same on every request but for some values, compiled once
(issue 14).

Django builds and compiles a queryset's SQL on every call: for a reader's list, the
visibility conditions of each link read and of the stored count, about a fifth of the
CPU of a page of 50 evidence items. Where a caller knows that only some values change
from one request to the next (a page's keys, a therapy's slug) it names the statement
by a key and gives a function that builds the queryset from those values:

    rows = template_rows(key, lambda pks: links.filter(owner__in=pks).values_list(...),
                         pks, alias)

The first call for a key builds the queryset twice, with two sets of marker values,
and compiles both: the statement is kept only if both compile to the same SQL and the
markers, and nothing else, differ in its parameters, each where a value goes. Later
calls fill the kept statement with their values, run it and convert its columns as
Django would. A key whose SQL depends on more than the values (a filter that chooses
its condition from a value) fails that check and is never kept: ``template_rows``
returns None and the caller builds its queryset as before. The key must name all else
the SQL depends on (the database alias, the number of values, the reader, a number the
SQL holds such as a LIMIT).

``template_rows`` and ``template_dicts`` give a ``values_list()`` or ``values()``
queryset's rows; ``template_records`` and ``template_list`` model instances, with their
``select_related`` parents and annotations; ``template_prefetch`` a link of such records
as ``prefetch_related`` leaves it. The reader pages read this way (treatments/views.py,
findings/views.py, treatments/matrix.py): with every cache off, building and compiling
a therapy page's SQL took more of it than running it (issue 14).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, get_related_populators

from curation.linkreads import keep_prefetched
from curation.prepared import prepared

_TEMPLATES: dict[tuple, _Template | None] = {}
_LOCK = threading.Lock()

# Markers no value of ours takes: primary keys are positive, slugs carry no control
# characters (SLUG_REGEX).
_INT_MARK = -(2**62)


def _markers(values: Sequence, round_: int) -> list | None:
    marks = []
    for index, value in enumerate(values):
        n = round_ * len(values) + index
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            marks.append(_INT_MARK - n)
        elif isinstance(value, str):
            marks.append(f"\x1f{n}\x1f")
        else:
            return None  # a type whose marker could change the SQL: not kept
    return marks


class _Template:
    def __init__(self, compiler, sql: str, params: tuple, slots: list[int | None], records: bool):
        query = compiler.query
        # A values() queryset's names, as Django's ValuesIterable gives them.
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.compiler = compiler
        self.sql = sql
        self.params = params
        self.slots = slots  # per parameter: the index of the value it takes, or None
        self.fields = [column[0] for column in compiler.select[: compiler.col_count]]
        # Whether model instances can be made from its rows, and how (ModelIterable's way).
        self.records = records
        if records:
            klass_info, select = compiler.klass_info, compiler.select
            fields = klass_info["select_fields"]
            self.model = klass_info["model"]
            self.own = slice(fields[0], fields[-1] + 1)
            self.init_list = [column[0].target.attname for column in select[self.own]]
            self.parents = get_related_populators(klass_info, select, compiler.using)
            # Annotations, set on each record as ModelIterable sets them.
            self.annotations = list(compiler.annotation_col_map.items())

    @classmethod
    def compile(cls, build: Callable[..., QuerySet], values: Sequence, alias: str):
        first, second = _markers(values, 0), _markers(values, 1)
        if first is None:
            return None
        compiled = []
        for marks in (first, second):
            queryset = build(list(marks))
            if queryset._prefetch_related_lookups or queryset._known_related_objects:
                return None  # more than the statement's rows
            records = queryset._iterable_class is ModelIterable and not queryset.query.extra_select
            compiler = queryset.query.get_compiler(using=alias)
            try:
                sql, params = compiler.as_sql()
            except (EmptyResultSet, FullResultSet):
                return None  # no statement at all (an empty IN): Django answers it
            if compiler.has_extra_select:
                return None  # columns added for the order: not the rows asked for
            compiled.append((compiler, sql, tuple(params)))
        (compiler, sql, params), (_, sql2, params2) = compiled
        if sql != sql2 or len(params) != len(params2):
            return None
        where = {mark: index for index, mark in enumerate(first)}
        slots: list[int | None] = []
        for one, two in zip(params, params2, strict=True):
            index = where.get(one) if type(one) in (int, str) else None
            if index is None:
                if one != two:
                    return None  # a parameter that changed with the markers, not one of them
                slots.append(None)
            elif two != second[index]:
                return None
            else:
                slots.append(index)
        if set(slots) - {None} != set(range(len(values))):
            return None  # a value the SQL does not take as it is
        return cls(compiler, sql, params, slots, records)

    def rows(self, values: Sequence, alias: str) -> list[tuple]:
        params = [
            fixed if slot is None else values[slot]
            for fixed, slot in zip(self.params, self.slots, strict=True)
        ]
        connection = connections[alias]
        # A kept statement reads by key: planned once per connection (curation/prepared.py).
        with connection.cursor() as cursor, prepared():
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        compiler = copy.copy(self.compiler)
        compiler.connection = connection
        converters = compiler.get_converters(self.fields)
        if converters:
            rows = [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return rows


# Bounds on what is kept, whatever the requests: a statement per number of values up to
# a page's largest (100), and so many statements in all (each a few kilobytes).
MAX_VALUES = 100
MAX_KEPT = 2000


def _kept(key: tuple, build, values: Sequence, alias: str) -> _Template | None:
    if len(values) > MAX_VALUES:
        return None
    key = (alias, len(values), frozenset(map(type, values)), *key)
    try:
        return _TEMPLATES[key]
    except KeyError:
        pass
    if len(_TEMPLATES) >= MAX_KEPT:
        return None
    template = _Template.compile(build, values, alias)
    with _LOCK:
        _TEMPLATES[key] = template
    return template


def template_rows(
    key: tuple, build: Callable[..., QuerySet], values: Sequence, alias: str
) -> list[tuple] | None:
    """The rows of ``build(values)`` (a ``values_list()`` queryset), from the statement
    kept for ``key``; None where its SQL could not be kept (then build it yourself)."""
    template = _kept(key, build, values, alias)
    return None if template is None else template.rows(values, alias)


def template_dicts(
    key: tuple, build: Callable[..., QuerySet], values: Sequence, alias: str
) -> list[dict] | None:
    """The rows of ``build(values)`` (a ``values()`` queryset) as the dicts it gives,
    from the statement kept for ``key``; None where its SQL could not be kept."""
    template = _kept((*key, "dicts"), build, values, alias)
    if template is None:
        return None
    names = template.names
    return [dict(zip(names, row, strict=True)) for row in template.rows(values, alias)]


def template_records(
    key: tuple, build: Callable[..., QuerySet], values: Sequence, alias: str
) -> list | None:
    """The model instances of ``build(values)`` (a model queryset, ``select_related``
    parents included), as Django's ModelIterable makes them, from the statement kept for
    ``key``, each with its annotations set; None where its SQL could not be kept or the
    queryset asks for more (related objects known in advance, prefetches, ``extra()``)."""
    template = _kept((*key, "records"), build, values, alias)
    if template is None or not template.records:
        return None
    records = []
    for row in template.rows(values, alias):
        record = template.model.from_db(alias, template.init_list, row[template.own])
        for parent in template.parents:
            parent.populate(row, record)
        for name, index in template.annotations:
            setattr(record, name, row[index])
        records.append(record)
    return records


def template_list(key: tuple, build: Callable[..., QuerySet], values: Sequence, alias: str) -> list:
    """``list(build(values))``: by the statement kept for ``key`` (``template_records``)
    where it can be, else by the queryset built as usual."""
    records = template_records(key, build, values, alias)
    return list(build(values)) if records is None else records


def template_prefetch(
    key: tuple,
    records: Sequence,
    name: str,
    build: Callable[..., QuerySet],
    alias: str,
    *,
    to_attr: str = "",
) -> bool:
    """Leave on each of ``records`` its link ``name`` (a many-to-many field or a reverse
    foreign key) as Django's prefetch_related leaves it (linkreads.keep_prefetched), or
    as a list in ``to_attr`` (as ``Prefetch(..., to_attr=)``), read by the statement
    kept for ``key``.

    ``build(pks)`` is the linked records of the records whose keys are ``pks``, each
    with its record's key in the annotation ``link_owner``, in the order the link lists
    them (a ``Prefetch`` queryset's order): a record's linked records keep that order.
    False where the statement could not be kept: nothing is set, prefetch as before."""
    if not records:
        return True
    linked = template_records((*key, "prefetch"), build, [r.pk for r in records], alias)
    if linked is None:
        return False
    by_owner: dict[Any, list] = {}
    for item in linked:
        by_owner.setdefault(item.link_owner, []).append(item)
    for record in records:
        if to_attr:
            setattr(record, to_attr, by_owner.get(record.pk, []))
        else:
            keep_prefetched(record, name, by_owner.get(record.pk, []))
    return True


def forget_templates() -> None:
    """Drop every kept statement (tests that change what the SQL depends on)."""
    with _LOCK:
        _TEMPLATES.clear()


def kept(key_part: Any) -> list[tuple]:
    """The keys of the statements kept whose parts include ``key_part`` (for the tests;
    a key tried and refused, whose statement is None, is not one)."""
    return [key for key, template in _TEMPLATES.items() if template and key_part in key]
