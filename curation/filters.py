"""The FilterSets of the suggestions list (``/api/v1/suggestions/``) and of the changes
list (``/api/v1/changes/``), and the filters the apps' FilterSets share (STYLE.md §4)."""

import django_filters
from django import forms

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
