"""The FilterSet of the suggestions list (``/api/v1/suggestions/``) and the filters the
apps' FilterSets share (STYLE.md §4)."""

import django_filters
from django import forms

from curation.models import Suggestion, SuggestionState
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
