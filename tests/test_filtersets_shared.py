"""Every FilterSet's filters copied shallowly and its form class built once per class
(curation/filters.py ``FilterSet``): each FilterSet still has filters of its own, bound
to it, and judges every input as django-filter's own FilterSet does (the same errors,
the same cleaned values, the same SQL)."""

import itertools

import pytest
from django import forms
from django.http import QueryDict

import curation.filters
import findings.filters
import treatments.filters
from curation.filters import FilterSet
from curation.models import Status
from tests.factories import make_abnormality, make_lab_test, make_therapy

pytestmark = pytest.mark.django_db

MODULES = (curation.filters, findings.filters, treatments.filters)


def _filtersets() -> list[type[FilterSet]]:
    found, todo = [], list(FilterSet.__subclasses__())
    while todo:
        klass = todo.pop()
        todo.extend(klass.__subclasses__())
        if klass.__module__ in {m.__name__ for m in MODULES} and klass._meta.model:
            found.append(klass)
    return sorted(set(found), key=lambda k: (k.__module__, k.__name__))


FILTERSETS = _filtersets()

# Inputs of every kind: valid and invalid, repeated, empty; each filter gets each one.
VALUES = ("1", "B", "published", "-updated", "2026-11-30T10:00:00Z", "x", "", "0", "hidden")


def _queries(klass) -> list[QueryDict]:
    queries = [QueryDict("")]
    for name, value in itertools.product(klass.base_filters, VALUES):
        queries.append(QueryDict(f"{name}={value}"))
    names = list(klass.base_filters)
    queries.append(QueryDict("&".join(f"{name}=1" for name in names)))
    queries.append(QueryDict("&".join(f"{name}=x&{name}=1" for name in names)))
    queries.append(QueryDict("&".join(f"{name}=x&{name}=x" for name in names)))
    queries.append(QueryDict("&".join(f"{name}=x&{name}=hidden" for name in names)))
    queries.append(QueryDict("&".join(f"{name}=x%00" for name in names)))
    return queries


@pytest.fixture(autouse=True)
def _records():
    """Records named by the inputs: "x" and "1" published, "hidden" a draft."""
    for slug in ("x", "1"):
        make_therapy(slug=slug)
        make_abnormality(slug=slug)
        make_lab_test(slug=slug)
    make_therapy(slug="hidden", status=Status.DRAFT)
    make_abnormality(slug="hidden", status=Status.DRAFT)
    make_lab_test(slug="hidden", status=Status.DRAFT)


def _judged(filterset) -> tuple:
    if not filterset.is_valid():
        return ("invalid", {k: [str(e) for e in v] for k, v in filterset.errors.items()})
    return (
        "valid",
        repr(sorted(filterset.form.cleaned_data.items(), key=str)),
        str(filterset.qs.query),
    )


def test_every_filterset_of_the_project_is_one():
    names = {klass.__name__ for klass in FILTERSETS}
    assert {"TherapyEvidenceFilter", "FindingFilter", "TherapyFilter", "SourceFilter"} <= names
    assert all(klass._shares_filters() for klass in FILTERSETS)


@pytest.mark.parametrize("klass", FILTERSETS, ids=lambda k: k.__name__)
def test_inputs_are_judged_as_django_filter_judges_them(klass, monkeypatch):
    ours = [_judged(klass(query)) for query in _queries(klass)]
    monkeypatch.setattr(klass, "_shares_filters", classmethod(lambda cls: False))
    theirs = [_judged(klass(query)) for query in _queries(klass)]
    assert ours == theirs
    assert any(j[0] == "valid" for j in ours) and any(j[0] == "invalid" for j in ours)


@pytest.mark.parametrize(
    "klass,name",
    [
        (treatments.filters.TherapyEvidenceFilter, "therapy"),
        (treatments.filters.TherapyEvidenceFilter, "abnormality"),
        (treatments.filters.TherapyFilter, "abnormality"),
        (findings.filters.FindingFilter, "lab_test"),
    ],
)
def test_records_named_by_slug_are_read_by_a_kept_statement(klass, name, django_assert_num_queries):
    from curation import statements

    statements.forget_templates()
    for query, expected in [(f"{name}=x", "valid"), (f"{name}=hidden", "invalid")]:
        filterset = klass(QueryDict(query))
        with django_assert_num_queries(1):
            assert filterset.is_valid() is (expected == "valid")
    assert statements.kept(klass), "the records' statement was not kept"
    record = klass(QueryDict(f"{name}=x")).form
    assert record.is_valid()
    value = record.cleaned_data[name]
    records = value if isinstance(value, list) else [value]
    assert [r.slug for r in records] == ["x"] and all(r.pk for r in records)


@pytest.mark.parametrize("klass", FILTERSETS, ids=lambda k: k.__name__)
def test_each_filterset_has_filters_of_its_own(klass):
    one, two = klass(QueryDict("")), klass(QueryDict(""))
    for name in klass.base_filters:
        mine, yours, base = one.filters[name], two.filters[name], klass.base_filters[name]
        assert mine is not yours and mine is not base
        assert mine.parent is one and yours.parent is two
        assert mine.model is klass._meta.model
        if getattr(mine, "_method", None) is not None:
            # A method filter calls its own FilterSet's method, not the first one's.
            assert mine.filter.f is mine and yours.filter.f is yours
            assert mine.filter.method.__self__ is one


@pytest.mark.parametrize("klass", FILTERSETS, ids=lambda k: k.__name__)
def test_the_form_class_is_built_once_and_each_form_has_fields_of_its_own(klass):
    one, two = klass(QueryDict("")), klass(QueryDict(""))
    assert type(one.form) is type(two.form)
    templates = type(one.form).base_fields
    for name in klass.base_filters:
        mine, yours, template = one.form.fields[name], two.form.fields[name], templates[name]
        assert len({id(mine), id(yours), id(template)}) == 3
        assert len({id(mine.widget), id(yours.widget), id(template.widget)}) == 3
        if isinstance(template, forms.ModelChoiceField):
            # A queryset of its own, and the widget's choices read through it.
            assert mine.queryset is not template.queryset
            assert mine.queryset is not yours.queryset
            assert mine.widget.choices.field is mine
        # What one form sets on its field or widget stays in that form.
        if isinstance(template, forms.ChoiceField) and not hasattr(template, "queryset"):
            mine.choices = [("only", "only")]
            assert list(yours.choices) != [("only", "only")]
            assert list(template.choices) != [("only", "only")]
            assert list(yours.widget.choices) != [("only", "only")]
        mine.required = not template.required
        mine.widget.is_localized = True
        assert yours.required == template.required
        assert not yours.widget.is_localized and not template.widget.is_localized


@pytest.mark.parametrize("klass", FILTERSETS, ids=lambda k: k.__name__)
def test_forms_render_as_django_filters_forms_render(klass, monkeypatch):
    """The HTML of every bound form (its fields, choices and errors) is the same as
    django-filter's own form gives for the same input."""
    queries = _queries(klass)[::7]
    ours = [str(klass(query).form) for query in queries]
    monkeypatch.setattr(klass, "_shares_filters", classmethod(lambda cls: False))
    theirs = [str(klass(query).form) for query in queries]
    assert ours == theirs


def test_a_method_filter_runs_on_the_filterset_that_was_asked(monkeypatch):
    klass = treatments.filters.TherapyEvidenceFilter
    calls = []
    monkeypatch.setattr(
        klass, "filter_sync", lambda self, qs, name, value: calls.append(self) or qs
    )
    first = klass(QueryDict("since_version=1"))
    second = klass(QueryDict("since_version=2"))
    assert second.is_valid() and first.is_valid()
    second.qs, first.qs  # noqa: B018 - filtering is what is tested
    assert calls == [second, first]


def test_a_filter_whose_choices_depend_on_the_request_is_built_per_filterset():
    import django_filters

    from treatments.models import Therapy

    class PerRequest(FilterSet):
        therapy = django_filters.ModelChoiceFilter(
            to_field_name="slug", queryset=lambda request: Therapy.objects.none()
        )

        class Meta:
            model = Therapy
            fields = ["therapy"]

    assert not PerRequest._shares_filters()
    one, two = PerRequest(QueryDict("")), PerRequest(QueryDict(""))
    assert type(one.form) is not type(two.form)  # django-filter's own way


def test_a_filter_added_to_the_class_or_taken_away_is_in_the_next_form(monkeypatch):
    """The form class made once follows the class's filters: a filter added (as a test
    or a plugin may) is in the next FilterSet's form, and gone from it once removed."""
    import django_filters

    klass = treatments.filters.TherapyFilter
    assert "added_later" not in klass(QueryDict("")).form.fields
    with monkeypatch.context() as patch:
        patch.setitem(
            klass.base_filters,
            "added_later",
            django_filters.CharFilter(method=lambda queryset, name, value: queryset),
        )
        filterset = klass(QueryDict("added_later=1"))
        assert "added_later" in filterset.form.fields
        assert filterset.is_valid() and filterset.qs is not None
    filterset = klass(QueryDict("added_later=1"))
    assert "added_later" not in filterset.form.fields
    assert filterset.is_valid() and filterset.qs is not None  # no KeyError: it is gone


@pytest.mark.parametrize("klass", FILTERSETS, ids=lambda k: k.__name__)
def test_filters_left_empty_compile_no_query(klass, monkeypatch):
    """A multiple choice of records left empty is ``queryset.none()``; its filter tests
    it (``if not value``), which compiled a query that is never sent (curation/filters.py
    ``FilterSet.filter_queryset``). Filtering with nothing chosen compiles nothing; the
    rows are those of the unfiltered queryset."""
    from django.db.models.sql.compiler import SQLCompiler

    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    filterset = klass(QueryDict(""))
    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    queryset = filterset.qs
    assert compiled == []
    monkeypatch.undo()
    unfiltered = filterset.queryset
    assert sorted(queryset.values_list("pk", flat=True)) == sorted(
        unfiltered.values_list("pk", flat=True)
    )


def test_choices_read_from_their_label_column_are_djangos(django_assert_num_queries):
    """The therapy list's abnormality checkboxes (a thousand at scale) read their slugs
    and labels from two columns by a kept statement: the same pairs, in the same order,
    as Django's choices, a record each made and turned into a string."""
    from django_filters.fields import ModelChoiceIterator

    from curation import statements

    statements.forget_templates()
    make_abnormality(slug="b-second", name="Beta & <b> 'quoted'")
    make_abnormality(slug="a-third", name="Zeta")
    field = treatments.filters.TherapyFilter(QueryDict("")).form.fields["abnormality"]
    assert field.label_field == "name"
    with django_assert_num_queries(1):  # iterated as a page does, without a count first
        mine = list(iter(field.choices))
    theirs = [(str(value), label) for value, label in ModelChoiceIterator(field)]
    assert mine == theirs
    # Published only ("hidden" is a draft), in Django's order (by name).
    assert {"x", "1", "b-second", "a-third"} == set(dict(mine))
    assert any(key[-1] == "choices" for key in statements.kept(treatments.filters.TherapyFilter))
