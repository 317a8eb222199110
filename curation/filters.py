"""The FilterSets of the suggestions list (``/api/v1/suggestions/``) and of the changes
list (``/api/v1/changes/``), and the filters the apps' FilterSets share (STYLE.md §4)."""

import django_filters
from django import forms
from django.db.models import F
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import BaseCSVField
from django_filters.widgets import BaseCSVWidget

from curation.models import DataChange, DataChangeAction, Suggestion, SuggestionState
from curation.resources import api_kind_choices, api_resource_model


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


class SuggestionFilter(django_filters.FilterSet):
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

    class Meta:
        model = Suggestion
        fields = ["state", "kind", "author", "record"]

    def filter_kind(self, queryset, name: str, value: str):
        return queryset.of_kind(api_resource_model(value))


# DataVersion.number is a PositiveIntegerField: a larger ``since`` is a 400, not an
# overflow in the database driver.
MAX_VERSION = 2**31 - 1


class VersionFilter(django_filters.NumberFilter):
    # Whole numbers only: the default DecimalField would accept 1.5 and 1e3.
    field_class = forms.IntegerField


class DataChangeFilter(django_filters.FilterSet):
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

    class Meta:
        model = DataChange
        fields = ["since", "action"]
