"""A list page represented from ``values()`` rows instead of model instances (issue 14).

DRF builds a model instance per row (and one per ``select_related`` parent) and then
walks each field's ``get_attribute``: about 0.5 ms a row for the evidence lists. A
``RowPlan`` is compiled once from the list's own serializer: each readable field becomes
a column to read and the same field's ``to_representation`` to apply to it, so the
serializer stays the single definition of what a row holds (and of the schema). What a
plan cannot read from a column it refuses when it is compiled (``RowPlanError``), never
at a request:

- a model field: its column (a foreign key's ``_id``, a slug link's ``fk__slug``);
- a nested serializer of a foreign key (a claim's ``citation``): the parent's columns
  through the join ``select_related`` made, compiled the same way;
- a property of the model (``notice_held``, ``retraction``): the model's own property,
  run on a small object holding the columns ``reads`` names for it (a column left out
  is an AttributeError in the tests, not a silent default);
- a list of linked ids (``contradicted_by``): read for the whole page in one query per
  link, from the ``Prefetch`` the view's queryset declares, so the visibility rule of
  the links is the view's (``linked_visible_to``), not written again here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, Prefetch, QuerySet
from django.db.models.query import BaseIterable, ModelIterable
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField, SlugRelatedField
from rest_framework.settings import api_settings

from curation.statements import template_rows


class RowPlanError(TypeError):
    """A serializer field the plan cannot read from columns: serve that list through DRF."""


# The object a model property runs on: its key in a row (a tuple never clashes with a column).
_OBJECT = ("object",)


@functools.cache
def _row_class(model: type[Model]) -> type:
    """A plain class with the model's own properties (those of the project's classes, not
    Django's ``pk`` and the like), for ``reads``' columns set as attributes."""
    attrs: dict[str, Any] = {}
    for klass in reversed(model.__mro__):
        if klass.__module__.startswith(("django.", "builtins")):
            continue
        for name, value in vars(klass).items():
            if isinstance(value, property | functools.cached_property):
                attrs[name] = value
    return type(f"{model.__name__}Row", (), attrs)


class RowPlan:
    """How to represent a row of ``model`` as ``serializer`` does, from ``values()``.

    ``reads`` names, per model, the columns each property the serializer shows reads
    (``{Source: {"notice_link": ("notice_url", "notice_doi")}}``)."""

    def __init__(
        self,
        serializer: serializers.Serializer,
        model: type[Model],
        reads: Mapping[type[Model], Mapping[str, tuple[str, ...]]],
        prefix: str = "",
    ):
        self.model = model
        self.prefix = prefix
        self.columns: list[str] = []
        self.links: list[tuple[tuple, str]] = []  # (key in a row, m2m field name)
        self.steps: list[tuple[str, Callable[[dict], Any]]] = []
        self._object_columns: list[str] = []
        self.nested: dict[str, RowPlan] = {}
        model_reads = reads.get(model, {})
        for field in serializer._readable_fields:
            self.steps.append((field.field_name, self._step(field, model_reads, reads)))
        self.columns = list(dict.fromkeys(self.columns))

    # -- compiling -------------------------------------------------------------------

    def _column(self, name: str) -> str:
        self.columns.append(self.prefix + name)
        return self.prefix + name

    def _step(self, field, model_reads, reads) -> Callable[[dict], Any]:
        if len(field.source_attrs) != 1:
            raise RowPlanError(f"{field.field_name}: a dotted source ({field.source})")
        source = field.source_attrs[0]
        try:
            model_field = self.model._meta.get_field(source)
        except FieldDoesNotExist:
            model_field = None
        if isinstance(field, ManyRelatedField):
            if not (model_field and model_field.many_to_many and not model_field.auto_created):
                raise RowPlanError(f"{field.field_name}: not a many-to-many field")
            if not isinstance(field.child_relation, PrimaryKeyRelatedField) or self.prefix:
                raise RowPlanError(f"{field.field_name}: only ids of the listed rows' links")
            key = ("link", source)
            self.links.append((key, source))
            return lambda row: row[key]
        if model_field is None:
            if source not in model_reads:
                raise RowPlanError(
                    f"{field.field_name}: {self.model.__name__}.{source} is not a field; "
                    "name the columns it reads in `reads`"
                )
            for name in model_reads[source]:
                self._object_columns.append(self._column(name))
            return self._property_step(field, source)
        if model_field.many_to_one:
            if isinstance(field, PrimaryKeyRelatedField) and field.pk_field is None:
                return _raw(self._column(model_field.attname))
            if isinstance(field, SlugRelatedField):
                return _raw(self._column(f"{source}__{field.slug_field}"))
            if isinstance(field, serializers.Serializer):
                nested = RowPlan(
                    field, model_field.related_model, reads, f"{self.prefix}{source}__"
                )
                if nested.links:
                    raise RowPlanError(f"{field.field_name}: links of a parent")
                self.nested[field.field_name] = nested
                self.columns.extend(nested.columns)
                key = self._column(f"{source}__pk")
                return lambda row: None if row[key] is None else nested.represent_one(row)
            raise RowPlanError(f"{field.field_name}: a {type(field).__name__} of a foreign key")
        if model_field.is_relation or isinstance(field, serializers.Serializer):
            raise RowPlanError(f"{field.field_name}: a {type(field).__name__} of a relation")
        column = self._column(model_field.attname)
        if _as_stored(field, model_field):
            return lambda row: row[column]
        if iso_datetime(field):
            return _datetime_step(field, column)
        represent = field.to_representation
        return lambda row: None if (value := row[column]) is None else represent(value)

    def _property_step(self, field, source: str) -> Callable[[dict], Any]:
        represent = field.to_representation
        row_class = _row_class(self.model)
        key = (*_OBJECT, self.prefix)
        prefix_length = len(self.prefix)

        def step(row: dict) -> Any:
            obj = row.get(key)
            if obj is None:
                obj = row[key] = row_class()
                obj.__dict__.update(
                    (column[prefix_length:], row[column]) for column in self._object_columns
                )
            value = getattr(obj, source)
            return None if value is None else represent(value)

        return step

    def steps_of(self, name: str) -> RowPlan:
        """The plan of a nested serializer's field (for the tests)."""
        return self.nested[name]

    # -- representing ----------------------------------------------------------------

    def represent_one(self, row: dict) -> dict:
        return {name: step(row) for name, step in self.steps}

    def values(self, queryset: QuerySet, extra: Iterable[str] = ()) -> QuerySet:
        """``queryset``, whose rows come as the dicts this plan reads (its prefetches
        left to ``represent``), with ``extra`` columns (a cursor's keys).

        The query itself is left as it is until its rows are read: ``values()`` with
        the parents' columns would add their joins to it at once, and every query built
        from it after (the count, SQLite's narrow subquery of a page's keys:
        curation/rest.py ``page_rows``) would carry them; SQLite then read a page of
        the 100k evidence list by abnormality in 230 ms instead of 15 ms."""
        columns = tuple(dict.fromkeys([*self.columns, "pk", *extra]))
        rows = queryset.prefetch_related(None)
        rows._iterable_class = type("RowPlanIterable", (_ValuesWhenRead,), {"columns": columns})
        return rows

    def represent(
        self, rows: list[dict], prefetches: Iterable[Any] = (), statement: tuple | None = None
    ) -> list[dict]:
        """The serializer's representation of each row, with the rows' links read in one
        query per link, through the view queryset's ``Prefetch`` of it. ``statement``, a
        key naming everything the prefetches' SQL depends on (the view and its reader),
        lets each link's statement be compiled once (curation/statements.py)."""
        rows = list(rows)
        for key, name in self.links:
            pks = [row["pk"] for row in rows]
            linked = self._linked_ids(name, pks, prefetches, statement)
            for row in rows:
                row[key] = linked.get(row["pk"], [])
        # The time zone DRF's DateTimeField shows times in, asked once for the page.
        shown_in = _SHOWN_IN.set(timezone.get_current_timezone() if settings.USE_TZ else None)
        try:
            return [self.represent_one(row) for row in rows]
        finally:
            _SHOWN_IN.reset(shown_in)

    def _linked_ids(
        self, name: str, pks: list, prefetches: Iterable[Any], statement: tuple | None = None
    ) -> dict[Any, list]:
        prefetch = next(
            (p for p in prefetches if isinstance(p, Prefetch) and p.prefetch_to == name), None
        )
        if prefetch is None or prefetch.queryset is None:
            # Without the view's own queryset of the links there is no visibility rule.
            raise RowPlanError(f"{name}: the view's queryset has no Prefetch(queryset=…) of it")
        if not pks:
            return {}
        back = self.model._meta.get_field(name).related_query_name()

        def build(keys):
            return prefetch.queryset.filter(**{f"{back}__in": keys}).values_list(back, "pk")

        pairs = None
        if statement is not None:
            key = (*statement, self.model, name)
            pairs = template_rows(key, build, pks, prefetch.queryset.db)
        if pairs is None:
            pairs = build(pks)
        linked: dict[Any, list] = {}
        for owner, pk in pairs:
            linked.setdefault(owner, []).append(pk)
        return linked


class Represented(list):
    """Records a ``RowPlan`` has already represented, for a nested list of them: a
    serializer whose ``Meta.list_serializer_class`` is ``RepresentedList`` shows them as
    they are (a therapy's harms, read for a whole page of therapies at once)."""


class RepresentedList(serializers.ListSerializer):
    """DRF's list of a nested serializer, which shows a ``Represented`` list as it is,
    a list written as JSON text already (an ``orjson.Fragment``, which the renderer
    passes through) as it is too, and represents anything else (model instances) as DRF
    does."""

    def to_representation(self, data):
        if isinstance(data, Represented):
            return list(data)
        if isinstance(data, orjson.Fragment):
            return data
        return super().to_representation(data)


class _ValuesWhenRead(BaseIterable):
    """The rows of the queryset as ``values(*columns)`` gives them, asked for only now."""

    columns: tuple[str, ...] = ()

    def __iter__(self):
        rows = self.queryset._chain()
        rows._iterable_class = ModelIterable
        return iter(rows.values(*self.columns))


# DRF fields whose representation of a column's value is the value itself: text as
# text (``str(value)``), whole numbers as numbers (``int(value)``), booleans as
# booleans, a choice among text choices as its text. Only where the field's class keeps
# DRF's ``to_representation`` and the column holds that type.
_STORED_AS_SHOWN = {
    serializers.CharField: {"CharField", "TextField", "SlugField"},
    serializers.IntegerField: {
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "AutoField",
        "BigAutoField",
    },
    serializers.BooleanField: {"BooleanField"},
    serializers.ChoiceField: {"CharField"},
}


def _as_stored(field, model_field) -> bool:
    """Whether ``field`` shows ``model_field``'s values as they are read (one step less
    per column and row: a third of a page's representing, issue 14)."""
    shown_by = type(field).to_representation
    klass = next((k for k in _STORED_AS_SHOWN if shown_by is k.to_representation), None)
    if klass is None or model_field.get_internal_type() not in _STORED_AS_SHOWN[klass]:
        return False
    if klass is serializers.ChoiceField:
        shown = field.choice_strings_to_values
        return all(isinstance(key, str) and value == key for key, value in shown.items())
    return True


# The time zone of the page being represented (``RowPlan.represent``): DRF asks Django's
# current time zone for each value, a tenth of a page's representing.
_SHOWN_IN: ContextVar = ContextVar("shown_in", default=None)


def iso_datetime(field) -> bool:
    """Whether ``field`` is DRF's DateTimeField as DRF shows it: ISO 8601 text in the
    current time zone (no format, time zone or method of its own)."""
    if not isinstance(field, serializers.DateTimeField) or hasattr(field, "timezone"):
        return False
    klass = type(field)
    own = ("to_representation", "enforce_timezone", "default_timezone")
    if any(getattr(klass, name) is not getattr(serializers.DateTimeField, name) for name in own):
        return False
    shown_as = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return isinstance(shown_as, str) and shown_as.lower() == ISO_8601


def _datetime_step(field, column: str) -> Callable[[dict], Any]:
    """A time shown as DRF's DateTimeField shows it (``iso_datetime``), with the page's
    time zone asked once."""
    represent = field.to_representation

    def step(row: dict) -> Any:
        value = row[column]
        return None if value is None else datetime_text(value, _SHOWN_IN.get(), represent)

    return step


def datetime_text(value, shown_in, represent: Callable) -> Any:
    """``value`` as DRF's DateTimeField (``iso_datetime``) shows it in the time zone
    ``shown_in``; anything else (no time zone, a time without one, a time out of range)
    through ``represent``, the field's own."""
    if shown_in is None or type(value) is not datetime or value.tzinfo is None:
        return represent(value)
    try:
        text = value.astimezone(shown_in).isoformat()
    except OverflowError:
        return represent(value)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _raw(column: str) -> Callable[[dict], Any]:
    """A related record's id or slug, as the relation field gives it."""
    return lambda row: row[column]
