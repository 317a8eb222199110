"""FilterSets for the lists of the findings app, shared by pages and API (STYLE.md §4)."""

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import ModelChoiceIterator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from curation.filters import (
    BooleanFilter,
    IdFilter,
    KeptRecordsMixin,
    SlugChoiceFilter,
    SortFilter,
    SyncFilterSet,
)
from curation.models import Status
from curation.rest import Pagination
from curation.statements import template_rows
from findings.fulltext import narrowed
from findings.models import (
    Abnormality,
    AbnormalityCategory,
    Availability,
    CaseDefinition,
    Change,
    Direction,
    Finding,
    LabTest,
    Level,
    Source,
    SourceKind,
)

# A search box is for words, not documents: longer input is refused with a message.
MAX_QUERY_LENGTH = 200

LEVEL_OR_BETTER = [(letter, f"{letter} or better") for letter in Level.values]


class YearFilter(django_filters.NumberFilter):
    # Whole years only: the default DecimalField would accept 2e9 and 1.5.
    field_class = forms.IntegerField


class LabelColumnIterator(ModelChoiceIterator):
    """A field's choices as (slug, label) pairs read from two columns, by a statement
    kept for the field (curation/statements.py), where the field names the column its
    labels are (``label_field``): a page lists a checkbox per abnormality, a thousand
    at scale, and a record made for each only to be turned into a string cost 8 ms
    (issue 14). Without a label column, with an empty or null choice, or where the
    statement cannot be kept, the choices are Django's."""

    def __iter__(self):
        field = self.field
        key = field.statement_key
        if (
            field.label_field is None
            or key is None
            or not field.to_field_name
            or field.empty_label is not None
            or field.null_label is not None
        ):
            yield from super().__iter__()
            return
        queryset = self.queryset

        def build(_):
            return queryset.values_list(field.to_field_name, field.label_field)

        rows = template_rows((*key, "choices"), build, [], queryset.db)
        yield from (build([]) if rows is None else rows)


class SlugsField(KeptRecordsMixin, django_filters.fields.ModelMultipleChoiceField):
    """``?abnormality=`` (an empty choice, as a plain form can send) means no filter,
    like every other empty parameter, rather than an unknown abnormality. The records
    named are read by a kept statement (``KeptRecordsMixin``). ``label_field`` names
    the column a choice's label is, where that is what ``str()`` of the record gives
    (``LabelColumnIterator``; tests/test_filtersets_shared.py compares both)."""

    iterator = LabelColumnIterator

    def __init__(self, *args, label_field: str | None = None, **kwargs):
        self.label_field = label_field
        super().__init__(*args, **kwargs)

    def clean(self, value):
        if isinstance(value, list | tuple):
            value = [item for item in value if item != ""]
        return super().clean(value)

    def _check_values(self, value):
        try:
            values = sorted(frozenset(value))
        except TypeError:
            return super()._check_values(value)  # says why (invalid_list)
        if not all(isinstance(item, str) for item in values):
            return super()._check_values(value)
        for item in values:
            self.validate_no_null_characters(item)
        records = self._kept_records(values)
        if records is None:
            return super()._check_values(value)
        found = {str(getattr(record, self.to_field_name)) for record in records}
        for item in values:
            if item not in found:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return records


@extend_schema_field(OpenApiTypes.STR)  # each value is a slug (the API schema)
class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    """Records tied to any of several related records, named by slug (repeatable)."""

    field_class = SlugsField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "slug")
        super().__init__(*args, **kwargs)

    def get_filter_predicate(self, v):
        # With to_field_name set, django-filter compares field_name with the slug
        # (abnormality=<slug>, an error for a foreign key): compare with the record.
        return {self.field_name: v}


class AbnormalityFilter(SyncFilterSet):
    category = django_filters.ChoiceFilter(
        choices=AbnormalityCategory.choices, label="Category", empty_label="any category"
    )
    change = django_filters.ChoiceFilter(
        choices=Change.choices, label="Change", empty_label="any change"
    )
    q = django_filters.CharFilter(
        method="filter_text", label="Name contains", max_length=MAX_QUERY_LENGTH
    )
    sort = SortFilter(
        fields=(("name", "name"), ("category", "category"), ("updated_at", "updated")),
        label="Sort by",
    )

    # An abnormality shows its lab tests.
    sync_children = ((LabTest, "abnormalities"),)

    class Meta:
        model = Abnormality
        fields = ["category", "change", "q"]

    def filter_text(self, queryset, name, value):
        return narrowed(queryset, [value], drive=False).filter(
            Q(name__icontains=value)
            | Q(aliases__icontains=value)
            | Q(component__icontains=value)
            | Q(summary__icontains=value)
        )


class SourceFilter(SyncFilterSet):
    kind = django_filters.ChoiceFilter(
        choices=SourceKind.choices, label="Kind of source", empty_label="any kind"
    )
    year_min = YearFilter(
        field_name="year", lookup_expr="gte", label="From year", min_value=1800, max_value=2100
    )
    year_max = YearFilter(
        field_name="year", lookup_expr="lte", label="To year", min_value=1800, max_value=2100
    )
    # Strict: "banana" is a 400, not "either" (curation/filters.py).
    retracted = BooleanFilter(
        field_name="retracted",
        label="Retracted",
        help_text="true: only sources their publisher retracted; false: only the others.",
        widget=forms.Select(
            choices=[("", "either"), ("false", "not retracted"), ("true", "retracted")]
        ),
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="Title, author or identifier contains",
        max_length=MAX_QUERY_LENGTH,
    )
    sort = SortFilter(
        fields=(("year", "year"), ("title", "title"), ("updated_at", "updated")),
        label="Sort by",
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


class LabTestFilter(SyncFilterSet):
    abnormality = SlugsFilter(
        field_name="abnormalities",
        queryset=Abnormality.objects.published(),
        label="Abnormality",
        help_text="Abnormality slug; repeat the parameter for tests that show any of several.",
        distinct=True,
    )
    availability = django_filters.ChoiceFilter(
        choices=Availability.choices, label="Availability", empty_label="any availability"
    )
    q = django_filters.CharFilter(
        method="filter_text", label="Name contains", max_length=MAX_QUERY_LENGTH
    )
    sort = SortFilter(
        fields=(("name", "name"), ("availability", "availability"), ("updated_at", "updated")),
        label="Sort by",
    )

    # A lab test shows the abnormalities it can show.
    sync_children = ((Abnormality, "lab_tests"),)

    class Meta:
        model = LabTest
        fields = ["abnormality", "availability", "q"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(measures__icontains=value) | Q(specimen__icontains=value)
        )


class ClaimFilter(SyncFilterSet):
    """What findings and therapy evidence are filtered by alike (TherapyEvidenceFilter
    in treatments/filters.py extends it too)."""

    abnormality = SlugsFilter(
        field_name="abnormality",
        queryset=Abnormality.objects.published(),
        label="Abnormality",
        help_text="Abnormality slug; repeat the parameter for several.",
        # The claim's own foreign key: one row per claim, so no DISTINCT (which made the
        # database compare every column of every matching row, and count them so).
        distinct=False,
    )
    level = django_filters.ChoiceFilter(
        choices=LEVEL_OR_BETTER,
        lookup_expr="lte",
        label="Evidence level",
        help_text="Minimum evidence level: B means A or B.",
    )
    direction = django_filters.ChoiceFilter(choices=Direction.choices, label="Direction")
    source = IdFilter(field_name="source_id", label="Source id")
    status = django_filters.ChoiceFilter(
        choices=Status.choices,
        label="Status",
        help_text="`retracted` lists the claims editors withdrew, each with its `retraction` "
        "(when and why); without `status` a list leaves them out. Curators and editors "
        "may also ask for `draft`, `submitted` or `rejected`.",
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="Statement, plain summary or quote contains",
        help_text=f"Case ignored. `count` is then counted up to {Pagination.count_cap} rows, "
        "or one row past the page if that is more: `count_is_estimate` says whether there "
        "are more.",
        max_length=MAX_QUERY_LENGTH,
    )
    sort = SortFilter(
        fields=(
            ("level", "level"),
            ("source__year", "year"),
            ("created_at", "created"),
            ("updated_at", "updated"),
        ),
        label="Sort by",
    )

    # A claim shows its source (``citation``).
    sync_parents = ("source",)

    def filter_text(self, queryset, name, value):
        return narrowed(queryset, [value], drive=False).filter(
            Q(statement__icontains=value)
            | Q(plain_summary__icontains=value)
            | Q(quote__icontains=value)
        )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            # A list holds the claims that count. A retracted claim is still readable
            # by its id (shown as retracted), and listed when asked for by status.
            queryset = queryset.exclude(status=Status.RETRACTED)
        return queryset


class FindingFilter(ClaimFilter):
    lab_test = SlugChoiceFilter(queryset=LabTest.objects.published(), label="Lab test")
    case_definition = django_filters.ChoiceFilter(
        choices=CaseDefinition.choices, label="Case definition"
    )

    class Meta:
        model = Finding
        fields = [
            "abnormality",
            "lab_test",
            "level",
            "direction",
            "case_definition",
            "source",
            "status",
        ]
