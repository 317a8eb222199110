"""FilterSets for the lists of the ground floor, shared by pages and API (STYLE.md §4)."""

import django_filters
from django import forms
from django.db.models import Q

from findings.models import Abnormality, AbnormalityCategory, Change, Source, SourceKind

# A search box is for words, not documents: longer input is refused with a message.
MAX_QUERY_LENGTH = 200


class YearFilter(django_filters.NumberFilter):
    # Whole years only: the default DecimalField would accept 2e9 and 1.5.
    field_class = forms.IntegerField


class AbnormalityFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(
        choices=AbnormalityCategory.choices, label="Category", empty_label="any category"
    )
    change = django_filters.ChoiceFilter(
        choices=Change.choices, label="Change", empty_label="any change"
    )
    q = django_filters.CharFilter(
        method="filter_text", label="Name contains", max_length=MAX_QUERY_LENGTH
    )

    class Meta:
        model = Abnormality
        fields = ["category", "change", "q"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(aliases__icontains=value)
            | Q(component__icontains=value)
            | Q(summary__icontains=value)
        )


class SourceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices, label="Kind of source", empty_label="any kind"
    )
    year_min = YearFilter(
        field_name="year", lookup_expr="gte", label="From year", min_value=1800, max_value=2100
    )
    year_max = YearFilter(
        field_name="year", lookup_expr="lte", label="To year", min_value=1800, max_value=2100
    )
    # A choice, not a BooleanFilter: NullBooleanField turns "banana" into "either"
    # silently, and bad input must be refused with a reason.
    retracted = django_filters.ChoiceFilter(
        choices=[("false", "not retracted"), ("true", "retracted")],
        method="filter_retracted",
        label="Retracted",
        empty_label="either",
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="Title, author or identifier contains",
        max_length=MAX_QUERY_LENGTH,
    )

    class Meta:
        model = Source
        fields = ["kind", "year_min", "year_max", "retracted", "q"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value)
            | Q(authors__icontains=value)
            | Q(container__icontains=value)
            | Q(doi__icontains=value)
            | Q(pmid=value)
            | Q(key__icontains=value)
        )

    def filter_retracted(self, queryset, name, value):
        return queryset.filter(retracted=value == "true")
