"""Statements compiled once and filled per call (curation/statements.py): the same rows
as the queryset built each time, in one query, for every case they are kept for; and
never kept where the SQL depends on more than the values (then the caller builds it)."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import F

from curation import statements
from curation.models import Status
from curation.statements import template_dicts, template_rows
from findings.models import Finding
from tests.factories import make_evidence, make_finding, make_therapy, rate
from treatments.api import TherapyEvidenceViewSet
from treatments.models import Therapy, TherapyEvidence

pytestmark = pytest.mark.django_db

READER = AnonymousUser()


@pytest.fixture(autouse=True)
def _fresh_templates():
    statements.forget_templates()
    yield
    statements.forget_templates()


def _links(keys):
    return (
        TherapyEvidence.objects.linked_visible_to(READER)
        .only("pk")
        .filter(contradicts__in=keys)
        .values_list("contradicts", "pk")
    )


def _therapies(slugs):
    return Therapy.objects.published().filter(slug__in=slugs).values_list("slug", "updated_at")


def _one(values):
    return Therapy.objects.published().filter(slug=values[0], pk__gt=values[1]).values_list("pk")


CASES = [
    # (name, build, values from the data)
    ("links of one key", _links, lambda d: [d["contradicted"].pk]),
    ("links of many keys", _links, lambda d: [e.pk for e in d["evidence"]]),
    ("links of keys with none", _links, lambda d: [d["plain"].pk, 10**9]),
    ("slugs, a time converted", _therapies, lambda d: [t.slug for t in d["therapies"]]),
    ("a slug missing", _therapies, lambda d: ["no-such-therapy"]),
    ("text and a number", _one, lambda d: [d["therapies"][0].slug, 0]),
    ("no values", lambda v: Therapy.objects.published().values_list("slug"), lambda d: []),
]


def _data() -> dict:
    therapies = [make_therapy(slug=f"t{n}") for n in range(3)]
    make_therapy(slug="draft", status=Status.DRAFT)
    evidence = [make_evidence(therapy=therapies[n % 3]) for n in range(5)]
    contradicted = evidence[0]
    contradicted.contradicted_by.add(evidence[1], evidence[2])
    hidden = make_evidence(therapy=therapies[0], status=Status.DRAFT)
    contradicted.contradicted_by.add(hidden)  # a draft link a reader never sees
    evidence[3].contradicted_by.add(evidence[4])
    return {
        "therapies": therapies,
        "evidence": evidence,
        "contradicted": contradicted,
        "plain": evidence[4],
    }


@pytest.mark.parametrize("name,build,values", CASES, ids=[c[0] for c in CASES])
def test_it_answers_what_the_queryset_answers_in_one_query(
    name, build, values, django_assert_num_queries
):
    data = _data()
    values = values(data)
    expected = [tuple(row) for row in build(values)]
    for _ in range(2):  # compiled on the first call, filled on the second
        with django_assert_num_queries(1):
            rows = template_rows(("test", name), build, values, connection.alias)
        assert rows == expected
    assert statements.kept(name)  # kept, by its key


def test_a_values_queryset_comes_as_its_dicts(django_assert_num_queries):
    data = _data()
    slugs = [t.slug for t in data["therapies"]]

    def build(values):
        return Therapy.objects.published().filter(slug__in=values).values("slug", "pk")

    expected = list(build(slugs))
    for _ in range(2):
        with django_assert_num_queries(1):
            assert template_dicts(("test", "dicts"), build, slugs, "default") == expected


def test_the_values_of_a_later_call_are_its_own():
    data = _data()
    key = ("test", "slugs")
    first, second = [data["therapies"][0].slug], [data["therapies"][2].slug]
    assert template_rows(key, _therapies, first, connection.alias)[0][0] == first[0]
    assert template_rows(key, _therapies, second, connection.alias)[0][0] == second[0]
    # A different number of values is another statement.
    both = template_rows(key, _therapies, [*first, *second], connection.alias)
    assert sorted(slug for slug, _ in both) == sorted([*first, *second])
    assert len([k for k in statements._TEMPLATES if "slugs" in k]) == 2


def test_converted_columns_come_as_django_gives_them():
    data = _data()
    rows = template_rows(("test", "time"), _therapies, [data["therapies"][0].slug], "default")
    assert isinstance(rows[0][1], datetime.datetime)
    assert rows[0][1] == data["therapies"][0].updated_at


NOT_KEPT = [
    # A value rewritten into the SQL's parameter (a pattern): not the value itself.
    ("a pattern", lambda v: Therapy.objects.filter(name__icontains=v[0]).values_list("pk")),
    # A value the SQL does not take at all.
    ("ignored", lambda v: Therapy.objects.values_list("pk")),
    # The SQL chosen from the value.
    (
        "chosen",
        lambda v: (
            Therapy.objects.filter(slug=v[0]).values_list("pk")
            if v[0].startswith("\x1f0")
            else Therapy.objects.filter(name=v[0]).values_list("pk")
        ),
    ),
]


@pytest.mark.parametrize("name,build", NOT_KEPT, ids=[c[0] for c in NOT_KEPT])
def test_a_statement_that_depends_on_more_than_its_values_is_not_kept(name, build):
    make_therapy(slug="t", name="T")
    assert template_rows(("test", name), build, ["t"], connection.alias) is None
    assert template_rows(("test", name), build, ["t"], connection.alias) is None


def test_no_statement_at_all_is_left_to_django(django_assert_num_queries):
    """An empty IN compiles to no statement (Django answers with no rows, no query)."""
    make_therapy()
    build = lambda v: Therapy.objects.filter(pk__in=v[1:]).values_list("pk")  # noqa: E731
    assert template_rows(("test", "empty in"), build, [1], "default") is None
    with django_assert_num_queries(0):
        assert list(build([1])) == []


def test_values_of_other_types_are_not_kept():
    build = lambda v: Therapy.objects.filter(created_at__date=v[0]).values_list("pk")  # noqa: E731
    assert template_rows(("test", "date"), build, [datetime.date(2026, 1, 1)], "default") is None
    build = lambda v: Therapy.objects.filter(pk__in=v).values_list("pk")  # noqa: E731
    assert template_rows(("test", "bool"), build, [True], "default") is None


def test_a_readers_evidence_list_reads_its_links_and_count_by_kept_statements(api_client):
    """An anonymous reader's list: each link read and the stored count by a kept
    statement, the same rows on the next request; a curator's built as before."""
    data = _data()
    finding = make_finding()
    data["contradicted"].contradicting_findings.add(finding)
    rate()  # the stored counts, as a publish leaves them
    first = api_client.get("/api/v1/evidence/?page_size=3")
    assert first.status_code == 200
    kept = statements.kept(TherapyEvidenceViewSet)
    assert {key[-1] for key in kept} == {"contradicted_by", "contradicting_findings"}
    assert any("stored_count" in key for key in statements._TEMPLATES)
    again = api_client.get("/api/v1/evidence/?page_size=3")
    assert again.content == first.content
    assert first.json()["count"] == TherapyEvidence.objects.published().count() == 5
    for row in api_client.get("/api/v1/evidence/?page_size=10").json()["results"]:
        item = TherapyEvidence.objects.get(pk=row["id"])
        assert set(row["contradicted_by"]) == {
            e.pk for e in item.contradicted_by.all() if e.status == Status.PUBLISHED
        }
        assert set(row["contradicting_findings"]) == {
            f.pk for f in item.contradicting_findings.all() if f.status == Status.PUBLISHED
        }
    assert Finding.objects.published().count() == 1


def test_what_is_kept_is_bounded(monkeypatch, django_assert_num_queries):
    """Past a page's number of values, or once so many statements are kept, the queryset
    is built as before: no request can make the process keep statements without end."""
    data = _data()
    slugs = [t.slug for t in data["therapies"]]
    many = [*slugs, *(f"missing-{n}" for n in range(statements.MAX_VALUES))]
    assert template_rows(("test", "many"), _therapies, many, "default") is None
    assert not statements.kept("many")
    monkeypatch.setattr(statements, "MAX_KEPT", len(statements._TEMPLATES))
    assert template_rows(("test", "full"), _therapies, slugs, "default") is None
    assert not statements.kept("full")


def test_records_come_with_their_parents_as_django_makes_them(django_assert_num_queries):
    """Model instances from a kept statement (``template_records``): the same fields as
    the queryset's, the ``select_related`` parent (or None) already there."""
    from treatments.models import CertaintyOverride, PairCertainty

    data = _data()
    one, two, three = data["therapies"]
    CertaintyOverride.objects.create(
        therapy=one, certainty="low", reason="An editor's reason.", status=Status.PUBLISHED
    )
    rate()
    ids = [one.pk, two.pk, three.pk]

    def build(keys):
        return (
            PairCertainty.objects.therapy_wide()
            .filter(therapy_id__in=keys)
            .select_related("override")
            .order_by("therapy_id")
        )

    expected = list(build(ids))
    assert expected[0].override is not None and expected[1].override is None
    for _ in range(2):
        with django_assert_num_queries(1):
            records = statements.template_records(("test", "ratings"), build, ids, "default")
            overrides = [record.override for record in records]  # no query: already there
        assert [r.pk for r in records] == [r.pk for r in expected]
        for mine, theirs, override in zip(records, expected, overrides, strict=True):
            fields = [f.attname for f in PairCertainty._meta.concrete_fields]
            assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
            assert override == theirs.override
            if override is not None:
                assert override.reason == theirs.override.reason
            assert mine._state.db == "default" and not mine._state.adding


def test_records_are_not_made_where_the_queryset_asks_for_more():
    data = _data()
    ids = [t.pk for t in data["therapies"]]
    prefetching = lambda keys: Therapy.objects.filter(pk__in=keys).prefetch_related("harms")  # noqa: E731
    assert statements.template_records(("test", "prefetch"), prefetching, ids, "default") is None
    values = lambda keys: Therapy.objects.filter(pk__in=keys).values_list("pk")  # noqa: E731
    assert statements.template_records(("test", "values"), values, ids, "default") is None


def test_records_come_with_their_annotations_as_django_sets_them(django_assert_num_queries):
    """Annotations, a window's rank filtered on included (Django wraps that query in
    another), are set on each record as ModelIterable sets them."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    data = _data()
    ids = [t.pk for t in data["therapies"]]

    def build(keys):
        return (
            TherapyEvidence.objects.published()
            .filter(therapy__in=keys)
            .annotate(
                rank=Window(RowNumber(), partition_by=[F("therapy_id")], order_by=[F("pk")]),
                therapy_slug=F("therapy__slug"),
            )
            .filter(rank__lte=1)
            .select_related("source")
            .order_by("pk")
        )

    expected = list(build(ids))
    assert len(expected) == 3
    for _ in range(2):
        with django_assert_num_queries(1):
            records = statements.template_records(("test", "ranked"), build, ids, "default")
            sources = [record.source.title for record in records]
        assert [(r.pk, r.rank, r.therapy_slug) for r in records] == [
            (r.pk, r.rank, r.therapy_slug) for r in expected
        ]
        assert sources == [r.source.title for r in expected]


def _contradictions(keys):
    return (
        TherapyEvidence.objects.published()
        .select_related("source", "therapy")
        .filter(contradicts__in=keys)
        .annotate(link_owner=F("contradicts"))
    )


def _findings(keys):
    return (
        Finding.objects.published()
        .select_related("source")
        .filter(contradicts_evidence__in=keys)
        .annotate(link_owner=F("contradicts_evidence"))
    )


PREFETCHED = [
    # (link, build, the Prefetch queryset Django's way)
    (
        "contradicted_by",
        _contradictions,
        lambda: TherapyEvidence.objects.published().select_related("source", "therapy"),
    ),
    (
        "contradicting_findings",
        _findings,
        lambda: Finding.objects.published().select_related("source"),
    ),
]


@pytest.mark.parametrize("name,build,queryset", PREFETCHED, ids=[c[0] for c in PREFETCHED])
def test_a_link_is_left_prefetched_as_django_leaves_it(
    name, build, queryset, django_assert_num_queries
):
    """``template_prefetch``: each record's linked records, in the link's order, the
    hidden ones left out, a record with none given none; listing them costs no query."""
    from django.db.models import Prefetch, prefetch_related_objects

    data = _data()
    findings = [make_finding(), make_finding(), make_finding(status=Status.DRAFT)]
    data["contradicted"].contradicting_findings.add(*findings)
    data["evidence"][3].contradicting_findings.add(findings[1])
    ids = [e.pk for e in data["evidence"]]
    theirs = list(TherapyEvidence.objects.filter(pk__in=ids).order_by("pk"))
    prefetch_related_objects(theirs, Prefetch(name, queryset=queryset()))
    expected = {e.pk: [(x.pk, x.source.title) for x in getattr(e, name).all()] for e in theirs}
    assert sum(map(len, expected.values())) >= 3 and [] in expected.values()
    for _ in range(2):
        mine = list(TherapyEvidence.objects.filter(pk__in=ids).order_by("pk"))
        with django_assert_num_queries(1):
            assert statements.template_prefetch(("test", name), mine, name, build, "default")
            got = {e.pk: [(x.pk, x.source.title) for x in getattr(e, name).all()] for e in mine}
        assert got == expected


def test_a_link_not_kept_is_left_to_the_caller():
    """Past a page's number of records nothing is set and False says so."""
    data = _data()
    records = [data["plain"]] * (statements.MAX_VALUES + 1)
    assert not statements.template_prefetch(
        ("test", "many"), records, "contradicted_by", _contradictions, "default"
    )
    assert "contradicted_by" not in getattr(data["plain"], "_prefetched_objects_cache", {})
    assert statements.template_prefetch(("test", "none"), [], "contradicted_by", _links, "default")
