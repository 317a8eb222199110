"""The FilterSets of the suggestions list (``/api/v1/suggestions/``) and of the changes
list (``/api/v1/changes/``), and the filters the apps' FilterSets share (STYLE.md §4)."""

from __future__ import annotations

import copy
import datetime

import django_filters
from django import forms
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import BaseCSVField
from django_filters.fields import ModelChoiceField as FilterModelChoiceField
from django_filters.filters import QuerySetRequestMixin
from django_filters.widgets import BaseCSVWidget

from curation.models import (
    DataChange,
    DataChangeAction,
    DataVersion,
    Moderated,
    Suggestion,
    SuggestionState,
    content_of,
)
from curation.resources import api_kind_choices, api_resource_model
from curation.statements import template_records


class IdFilter(django_filters.NumberFilter):
    """A record id: a whole number the database can hold (a larger one is a 400, not an
    overflow in the database driver)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """``true`` or ``false``, nothing else: Django's NullBooleanField reads "banana" as
    "either" silently, and bad input must be refused with a reason."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).lower()
        if text not in ("true", "false"):
            raise forms.ValidationError(
                f"Select a valid choice. {value} is not one of true or false.", code="invalid"
            )
        return text == "true"

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter: ``true`` or ``false`` (a boolean in the schema), anything else a
    400 naming the parameter; absent or empty means either."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # Pages show it as a choice; the API reads the same two words.
        kwargs.setdefault(
            "widget", forms.Select(choices=[("", "either"), ("false", "no"), ("true", "yes")])
        )
        super().__init__(*args, **kwargs)


class RepeatableCSVWidget(BaseCSVWidget):
    """Several values as one comma-separated value (``sort=-evidence,name``) or as the
    parameter repeated (``sort=-evidence&sort=name``, what generated clients send), in
    that order: both mean the same. Django's forms would keep only the last one."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else []
        if len(values) > 1:
            return [part for value in values for part in value.split(",")]
        return super().value_from_datadict(data, files, name)


class RepeatableCSVField(BaseCSVField):
    base_widget_class = RepeatableCSVWidget


class SortFilter(django_filters.OrderingFilter):
    """``sort``: one or more keys, comma-separated or repeated, `-` before a key for
    descending. Descending means "most first": ``-evidence`` puts the strongest evidence
    first, ``-certainty`` the most certain ratings. A field whose stored order runs the
    other way (level A before E; certainty rank 0 for high) is named in
    ``reversed_fields``. Rows without a value come last either way (SQLite would put
    NULL first), and ``tiebreak`` keeps pages from reshuffling."""

    base_field_class = RepeatableCSVField

    def __init__(self, *args, reversed_fields=(), tiebreak=("pk",), **kwargs):
        self.reversed_fields = frozenset(reversed_fields)
        self.tiebreak = tuple(tiebreak)
        super().__init__(*args, **kwargs)

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        field_name = self.param_map.get(param.lstrip("-"), param.lstrip("-"))
        if field_name in self.reversed_fields:
            descending = not descending
        if descending:
            return F(field_name).desc(nulls_last=True)
        return F(field_name).asc(nulls_last=True)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering = [self.get_ordering_value(param) for param in value if param not in EMPTY_VALUES]
        return qs.order_by(*ordering, *self.tiebreak) if ordering else qs


# DataVersion.number is a PositiveIntegerField: a larger ``since`` is a 400, not an
# overflow in the database driver.
MAX_VERSION = 2**31 - 1


class VersionFilter(django_filters.NumberFilter):
    # Whole numbers only: the default DecimalField would accept 1.5 and 1e3.
    field_class = forms.IntegerField


class SyncTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, compared in UTC. Python accepts offsets up to ±23:59 that
    PostgreSQL refuses (beyond ±15:59), and a time near year 1 or 9999 may leave
    Python's range once in UTC: the value is turned into UTC here, and one that cannot
    be is refused as invalid, never left to fail in the database (a 500)."""

    def to_python(self, value):
        if isinstance(value, str) and not value.strip():
            # Present but empty: a sync client that lost its time, not "everything".
            raise forms.ValidationError(
                "Enter a time (ISO 8601, e.g. 2026-11-30T10:00:00Z), or leave the parameter out.",
                code="required",
            )
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(
                "Enter a time between the years 1 and 9999 (in UTC).", code="invalid"
            ) from None


class SyncTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = SyncTimeField


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, its filters and form class made once per class.

    django-filter deep-copies every filter of the class for each FilterSet (each one's
    form field with its choices and querysets, built again), then builds a Form class
    from them: about a tenth of an API list's CPU, every request (issue 14). Here each
    filter is a shallow copy (its own ``model``, ``parent`` and method bound to it; the
    rest is the class's, never changed by filtering) and the Form class is built the
    first time and kept: its fields are templates, of which each form gets copies of its
    own (``_FieldTemplates``), so no request shares a field or widget it validates with.
    A FilterSet with a filter whose choices depend on the request (a callable
    ``queryset``) is built as django-filter builds it."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if not self._shares_filters():
            super().__init__(data, queryset, request=request, prefix=prefix)
            return
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            filter_ = copy.copy(base)
            if getattr(filter_, "_method", None) is not None:
                filter_.method = filter_._method  # bound to this copy, not the class's
            filter_.model = queryset.model
            filter_.parent = self
            self.filters[name] = filter_

    @classmethod
    def _shared(cls) -> dict:
        """What is made once for the class's filters as they are now: whether they may
        be shared (no callable queryset), and the form class once built. Made again
        whenever the class's filters change (a filter added or replaced)."""
        filters = tuple(cls.base_filters.items())
        shared = cls.__dict__.get("_shared_state")
        if shared is None or shared["filters"] != filters:
            shared = cls._shared_state = {
                "filters": filters,
                "shares": not any(
                    isinstance(f, QuerySetRequestMixin) and callable(f.queryset) for _, f in filters
                ),
                "form_class": None,
            }
        return shared

    @classmethod
    def _shares_filters(cls) -> bool:
        """Whether filters and form class may be the class's (no callable queryset)."""
        return cls._shared()["shares"]

    def filter_queryset(self, queryset):
        for value in self.form.cleaned_data.values():
            if (
                isinstance(value, QuerySet)
                and value._result_cache is None
                and value.query.is_empty()
            ):
                # A multiple choice of records left empty (``queryset.none()``): its filter
                # tests it (``if not value``), which compiled a query never sent, 1.5 ms of
                # an evidence list on SQLite (issue 14). The empty result testing finds.
                value._result_cache = []
        return super().filter_queryset(queryset)

    def get_form_class(self):
        if not self._shares_filters():
            return super().get_form_class()
        shared = self._shared()
        form_class = shared["form_class"]
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _FieldTemplates(form_class.base_fields)
            for name, field in form_class.base_fields.items():
                if isinstance(field, KeptRecordsMixin):
                    # Its records' statement, the same for every form of this class
                    # while the filter is the same.
                    field.statement_key = (type(self), name, self.base_filters[name])
            shared["form_class"] = form_class
        return form_class


class _FieldTemplates(dict):
    """The fields of a FilterSet's kept form class. Django deep-copies every field of a
    form class for each form (each one's widget, choices, queryset and messages, a
    twentieth of an API list's CPU); here each form gets its own copy of each field and
    of its widget, whatever a form sets on them (``field.choices``, ``field.queryset``,
    ``widget.choices``) staying its own, and shares what validating and rendering only
    read (the choices themselves, validators, messages, attributes)."""

    def __deepcopy__(self, memo) -> dict:
        fields = {}
        for name, template in self.items():
            field = copy.copy(template)
            field.widget = copy.copy(template.widget)
            if isinstance(template, forms.ModelChoiceField):
                # A queryset of its own (no rows read by one form kept for the next),
                # and its widget's choices read through it: as Django's deep copy does.
                field.queryset = template.queryset
            fields[name] = field
        return fields


class KeptRecordsMixin:
    """A model choice field of a filter whose records (named by slug) are read by a
    statement compiled once per FilterSet class and filter (curation/statements.py),
    not built and compiled for each request: the same records, with the same columns
    loaded, and the same errors. ``statement_key`` is set on the fields of a FilterSet's
    form class (``FilterSet.get_form_class``); a field without it reads as Django does."""

    statement_key = None

    def _kept_records(self, values: list[str]) -> list | None:
        if self.statement_key is None or not self.to_field_name or self.null_label is not None:
            return None
        queryset, lookup = self.queryset, f"{self.to_field_name}__in"
        return template_records(
            self.statement_key, lambda keys: queryset.filter(**{lookup: keys}), values, queryset.db
        )


class KeptModelChoiceField(KeptRecordsMixin, FilterModelChoiceField):
    def to_python(self, value):
        if value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        self.validate_no_null_characters(value)
        records = self._kept_records([value])
        if records is None:
            return super().to_python(value)
        if len(records) != 1:  # none: the slugs are unique
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return records[0]


class SlugChoiceFilter(django_filters.ModelChoiceFilter):
    """One record named by its slug (``?therapy=<slug>``), read by a kept statement."""

    field_class = KeptModelChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "slug")
        super().__init__(*args, **kwargs)


class SyncFilterSet(FilterSet):
    """``updated_since`` and ``since_version``, which every list of the API takes (an app
    keeping a copy asks for what changed): rows that changed, or that show a record that
    changed (their source, their therapy's evidence …), at or after a time, or in a data
    version after a number. Both given: both must hold.

    A FilterSet names what its rows show: ``sync_parents`` (foreign keys whose record a
    row embeds, e.g. a claim's source as its ``citation``) and ``sync_children``
    (``(model, lookup to the row)``: records a row summarises, e.g. a therapy's evidence).
    For curated rows "changed in a version after N" is exact (``DataChange``); for other
    rows it is "changed at or after the time the first version after N was made"."""

    updated_since = SyncTimeFilter(
        method="filter_sync",
        label="Updated since",
        help_text="Only rows changed at or after this time (ISO 8601, e.g. "
        "`2026-11-30T10:00:00Z`; a time without a zone is UTC), or that show a record "
        "changed since (a claim's source, a therapy's evidence). With it, the first page "
        "also lists `tombstones`.",
    )
    since_version = VersionFilter(
        method="filter_sync",
        min_value=0,
        max_value=MAX_VERSION,
        label="Since data version",
        help_text="Only rows changed in a data version after this one (a whole number, 0 "
        "or more: the `data_version` of your last read), or that show a record changed "
        "since. With it, the first page also lists `tombstones`: records removed since.",
    )

    sync_time_fields: tuple[str, ...] = ("updated_at",)
    sync_parents: tuple[str, ...] = ()
    sync_children: tuple[tuple[type[models.Model], str], ...] = ()

    def filter_sync(self, queryset, name, value):
        return queryset  # both together, in filter_queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        changed = self.changed_since()
        return queryset if changed is None else queryset.filter(changed)

    def is_sync(self) -> bool:
        data = getattr(self.form, "cleaned_data", {})
        return data.get("updated_since") is not None or data.get("since_version") is not None

    def changed_since(self) -> Q | None:
        """The rows changed since what the request names; None when it names nothing."""
        if not self.is_sync():
            return None
        data = self.form.cleaned_data
        changed = Q()
        if data.get("updated_since") is not None:
            changed &= self.changed_after_time(data["updated_since"])
        if data.get("since_version") is not None:
            changed &= self.changed_after_version(data["since_version"])
        return changed

    def changed_after_time(self, since: datetime.datetime | Subquery) -> Q:
        changed = Q()
        for name in self.sync_time_fields:
            changed |= Q(**{f"{name}__gte": since})
        for parent in self.sync_parents:
            changed |= Q(**{f"{parent}__{_time_field(self._parent(parent))}__gte": since})
        for model, lookup in self.sync_children:
            children = model._default_manager.filter(
                **{lookup: OuterRef("pk"), f"{_time_field(model)}__gte": since}
            )
            changed |= Q(Exists(children))
        return changed

    def changed_after_version(self, number: int) -> Q:
        model = self._meta.model
        if not issubclass(model, Moderated):
            return self.changed_after_time(_first_version_after(number))
        changed = Q(_changed_in_versions_after(number, model, OuterRef("pk")))
        for parent in self.sync_parents:
            field = model._meta.get_field(parent)
            changed |= Q(
                _changed_in_versions_after(number, field.related_model, OuterRef(field.attname))
            )
        for child, lookup in self.sync_children:
            children = child._default_manager.filter(**{lookup: OuterRef("pk")})
            if issubclass(child, Moderated):
                children = children.filter(
                    _changed_in_versions_after(number, child, OuterRef("pk"))
                )
            else:
                children = children.filter(
                    **{f"{_time_field(child)}__gte": _first_version_after(number)}
                )
            changed |= Q(Exists(children))
        return changed

    def _parent(self, name: str) -> type[models.Model]:
        return self._meta.model._meta.get_field(name).related_model


def _time_field(model: type[models.Model]) -> str:
    """When a record last changed: ``updated_at`` on curated records."""
    return "updated_at" if issubclass(model, Moderated) else "computed_at"


def _first_version_after(number: int) -> Subquery:
    """When the first data version after ``number`` was made (NULL if none was: then
    nothing changed, and a comparison with it selects nothing)."""
    return Subquery(
        DataVersion.objects.filter(number__gt=number).order_by("number").values("created_at")[:1]
    )


def _changed_in_versions_after(number: int, model: type[models.Model], record) -> Exists:
    return Exists(
        DataChange.objects.filter(content_of(model), version__number__gt=number, object_id=record)
    )


class SuggestionFilter(SyncFilterSet):
    state = django_filters.ChoiceFilter(
        choices=SuggestionState.choices, label="State", empty_label="any state"
    )
    # Callable choices: read when a request (or the schema) asks, once the router has
    # named the resources (curation/resources.py).
    kind = django_filters.ChoiceFilter(
        choices=api_kind_choices,
        method="filter_kind",
        label="Kind of record (its API resource: evidence, finding, source, …)",
        empty_label="any kind",
    )
    author = django_filters.CharFilter(
        field_name="author__username", label="Author (username)", max_length=150
    )
    record = IdFilter(field_name="object_id", label="Record id (use it with kind)")
    sort = SortFilter(
        fields=(("created_at", "created"), ("last_update", "updated")), label="Sort by"
    )

    # A suggestion changes when it is made and when it is reviewed.
    sync_time_fields = ("created_at", "reviewed_at")

    class Meta:
        model = Suggestion
        fields = ["state", "kind", "author", "record"]

    def filter_queryset(self, queryset):
        if any("updated" in key for key in self.form.cleaned_data.get("sort") or []):
            queryset = queryset.annotate(last_update=Coalesce("reviewed_at", "created_at"))
        return super().filter_queryset(queryset)

    def filter_kind(self, queryset, name: str, value: str):
        return queryset.of_kind(api_resource_model(value))


class DataChangeFilter(SyncFilterSet):
    since = VersionFilter(
        field_name="version__number",
        lookup_expr="gt",
        min_value=0,
        max_value=MAX_VERSION,
        label="Since data version",
        help_text="Only changes made after this data version (a whole number, 0 or more): "
        "the `data_version` of your last read, or its X-Data-Version header.",
    )
    action = django_filters.ChoiceFilter(
        choices=DataChangeAction.choices,
        help_text="Only changes of this kind: added, revised or retracted.",
    )

    sort = SortFilter(
        fields=(("version__number", "updated"),),
        label="Sort by",
        help_text="`-updated` (the default) lists the newest version first; `updated`, the oldest.",
    )

    class Meta:
        model = DataChange
        fields = ["since", "action"]

    def changed_after_time(self, since) -> Q:
        return Q(version__created_at__gte=since)

    def changed_after_version(self, number: int) -> Q:
        return Q(version__number__gt=number)
