"""A page's rows by key (curation/rest.py ``page_rows``): on SQLite the page's keys are
chosen by the list's own query and the rows read by key alone; the rows, their order and
their repeats are always those of ``queryset[bottom:top]``."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from curation.rest import _by_keys, page_rows
from findings.models import Finding, Level
from tests.factories import make_abnormality, make_evidence, make_finding, make_source, make_therapy
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db


@pytest.fixture
def claims():
    one, two = make_therapy(), make_therapy()
    nk, il6 = make_abnormality(), make_abnormality()
    years = [2001, 2019, None]
    for i in range(14):
        make_evidence(
            therapy=[one, two][i % 2],
            abnormality=[nk, il6, None][i % 3],
            level=[Level.A, Level.B, Level.C][i % 3],
            source=make_source(year=years[(i // 3) % 3]),
            statement=f"cytotoxicity claim {i}" if i % 4 else f"claim {i}",
        )
        make_finding(abnormality=[nk, il6][i % 2], level=[Level.B, Level.C][i % 2])
    # One item linked to two others: a join to many rows repeats it.
    first, second, third = TherapyEvidence.objects.order_by("pk")[:3]
    first.contradicted_by.add(second, third)
    return {"one": one, "nk": nk}


def lists(claims):
    reader = AnonymousUser()
    evidence = TherapyEvidence.objects.listed_visible_to(reader).select_related(
        "therapy", "abnormality", "source"
    )
    findings = Finding.objects.listed_visible_to(reader).select_related("abnormality", "source")
    return {
        "evidence": evidence,
        "therapy and level": evidence.filter(therapy=claims["one"], level__lte=Level.B),
        "abnormality": evidence.filter(abnormality=claims["nk"]),
        "abnormality's slug": evidence.filter(abnormality__slug=claims["nk"].slug),
        "text": evidence.filter(statement__icontains="cytotoxicity"),
        "as values": evidence.filter(level__lte=Level.B).values("pk", "therapy__slug"),
        "findings by level": findings.filter(level=Level.C),
        "across a link to many": evidence.filter(contradicted_by__level__in=[Level.A, Level.B]),
        "sorted by year": evidence.order_by("-source__year", "pk"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "evidence",
        "therapy and level",
        "abnormality",
        "abnormality's slug",
        "text",
        "as values",
        "findings by level",
        "across a link to many",
        "sorted by year",
    ],
)
@pytest.mark.parametrize("bottom, top", [(0, 5), (5, 10), (10, 40)])
def test_a_page_by_key_holds_the_rows_of_the_slice(claims, name, bottom, top):
    queryset = lists(claims)[name]
    expected = list(queryset[bottom:top])
    assert list(page_rows(queryset, bottom, top)) == expected
    if expected and isinstance(expected[0], TherapyEvidence):
        read = page_rows(queryset, bottom, top)
        assert [(e.therapy.slug, e.source.year) for e in read] == [
            (e.therapy.slug, e.source.year) for e in expected
        ]


def test_the_outer_query_reads_by_key_alone_where_every_join_is_to_one_row(claims):
    queryset = lists(claims)["therapy and level"]
    outer = _by_keys(queryset)
    assert outer is not queryset
    assert not outer.query.where
    assert queryset.query.where  # the list itself keeps its conditions
    if connection.vendor == "sqlite":
        sql = str(page_rows(queryset, 0, 5).query)
        where = sql.split(" WHERE ", 1)[1]
        assert where.startswith('"treatments_therapyevidence"."id" IN (SELECT')


def test_a_join_to_many_rows_keeps_its_condition(claims):
    queryset = lists(claims)["across a link to many"]
    assert _by_keys(queryset) is queryset
    # One of the item's two links matches: read by key with the join left unconditioned,
    # it would come back once per link.
    assert list(page_rows(queryset, 0, 10)) == list(queryset[0:10])
    assert len(list(page_rows(queryset, 0, 10))) == 1
    every_link = lists(claims)["evidence"].filter(contradicted_by__isnull=False)
    assert len(list(page_rows(every_link, 0, 10))) == 2  # once per link, as the slice
