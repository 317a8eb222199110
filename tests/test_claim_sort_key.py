"""The claims' stored sort key (findings.models.EvidenceFields.source_year, issue 14): a
copy of the source's year that the evidence and finding lists are ordered by."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.models import Status
from findings.models import Finding, Level
from tests.factories import (
    make_abnormality,
    make_evidence,
    make_finding,
    make_source,
    make_therapy,
    rate,
)
from treatments.api import TherapyEvidenceViewSet
from treatments.models import PairCertainty, TherapyEvidence

pytestmark = pytest.mark.django_db


def evidence_ids(api_client, query: str = "") -> list[int]:
    body = api_client.get(f"/api/v1/evidence/?page_size=100{query}").json()
    return [row["id"] for row in body["results"]]


def test_a_new_claim_gets_its_sources_year():
    source = make_source(year=1999)
    evidence = make_evidence(source=source)
    finding = make_finding(source=source)
    assert TherapyEvidence.objects.get(pk=evidence.pk).source_year == 1999
    assert Finding.objects.get(pk=finding.pk).source_year == 1999


def test_a_claim_moved_to_another_source_takes_its_year():
    evidence = make_evidence(source=make_source(year=1999))
    evidence.source = make_source(year=None)
    evidence.save()
    assert TherapyEvidence.objects.get(pk=evidence.pk).source_year is None
    evidence.source_id = make_source(year=2004).pk
    evidence.save(update_fields=["source"])
    assert TherapyEvidence.objects.get(pk=evidence.pk).source_year == 2004


def test_editing_a_sources_year_re_sorts_its_claims(api_client):
    old, new = make_source(year=1990), make_source(year=2020)
    first = make_evidence(source=new, level=Level.B)
    second = make_evidence(source=old, level=Level.B)
    finding = make_finding(source=old)
    assert evidence_ids(api_client) == [first.pk, second.pk]

    old = type(old).objects.get(pk=old.pk)  # as read from the database
    old.year = 2024
    old.save()
    assert evidence_ids(api_client) == [second.pk, first.pk]
    assert Finding.objects.get(pk=finding.pk).source_year == 2024
    old.year = None
    old.save(update_fields=["year"])
    assert TherapyEvidence.objects.get(pk=second.pk).source_year is None


def test_the_lists_keep_their_order_level_then_newest_source_then_id(api_client):
    years = [2001, None, 2015, 2015, 1988, None]
    made = [
        make_evidence(source=make_source(year=year), level=level)
        for level in (Level.C, Level.A)
        for year in years
    ]
    # Several claims of one source, and one whose source is a draft (not listed).
    shared = make_source(year=2015)
    made += [make_evidence(source=shared, level=Level.C) for _ in range(2)]
    make_evidence(source=make_source(year=2030, status="draft"))
    got = evidence_ids(api_client)
    # The order as the join to the sources gave it (NULL years where the database puts
    # them): the same rows in the same order.
    by_join = list(
        TherapyEvidence.objects.published()
        .order_by("level", "-source__year", "pk")
        .values_list("pk", flat=True)
    )
    assert got == by_join
    assert sorted(got) == sorted(e.pk for e in made)


def test_a_readers_count_read_from_the_stored_counts_equals_the_rows_counted(
    api_client, settings, django_assert_num_queries, monkeypatch
):
    settings.PUBLIC_CACHE_SECONDS = 0  # the stored counts are read only without a cache
    therapy, other = make_therapy(), make_therapy()
    abnormality, second = make_abnormality(), make_abnormality()
    draft_abnormality = make_abnormality(status=Status.DRAFT)
    draft_therapy = make_therapy(status=Status.DRAFT)
    for level in (Level.A, Level.C):
        make_evidence(therapy=therapy, abnormality=abnormality, level=level)
        make_evidence(therapy=therapy, abnormality=None, level=level)
        make_evidence(therapy=other, abnormality=second, level=level)
    make_evidence(therapy=other, abnormality=abnormality, direction="does_not_support")
    # Left out of every list: drafts, retracted items, unpublished parents.
    make_evidence(therapy=therapy, abnormality=abnormality, status=Status.DRAFT)
    make_evidence(therapy=therapy, abnormality=abnormality, status=Status.RETRACTED)
    make_evidence(therapy=therapy, abnormality=draft_abnormality)
    make_evidence(therapy=draft_therapy, abnormality=abnormality)
    make_evidence(therapy=therapy, source=make_source(status=Status.DRAFT))
    # Listed, counted nowhere else: its source's retraction awaits an editor (held).
    make_evidence(therapy=other, abnormality=second, source=make_source(retracted=True))
    rate()

    queries = [
        "",
        f"?therapy={therapy.slug}",
        f"?therapy={other.slug}&page_size=2&page=2",
        f"?abnormality={abnormality.slug}",
        f"?abnormality={abnormality.slug}&abnormality={second.slug}&sort=-year",
        f"?therapy={therapy.slug}&abnormality={abnormality.slug}",
        f"?therapy={other.slug}&abnormality={abnormality.slug}&abnormality={abnormality.slug}",
        f"?therapy={make_therapy().slug}",
    ]
    queries += [
        f"{query}{'&' if query else '?'}level={level}"
        for query in queries
        if "page=" not in query  # a page past the end of a narrower list is a 404
        for level in "ACE"
    ]
    queries += [f"?level=B&therapy={therapy.slug}", f"?abnormality={second.slug}&level=D"]

    def counts(query: str) -> tuple[int, int]:
        stored = api_client.get(f"/api/v1/evidence/{query}").json()["count"]
        # Counted row by row, same rows:
        with monkeypatch.context() as patch:
            patch.setattr(TherapyEvidenceViewSet, "stored_count", lambda view: None)
            counted = api_client.get(f"/api/v1/evidence/{query}").json()["count"]
        return stored, counted

    for query in queries:
        stored, counted = counts(query)
        assert stored == counted, query
    assert api_client.get("/api/v1/evidence/").json()["count"] == 8
    assert api_client.get("/api/v1/evidence/?level=A").json()["count"] == 3
    # Read from the stored counts indeed: no COUNT(*) of the evidence rows.
    with CaptureQueriesContext(connection) as read:
        api_client.get(f"/api/v1/evidence/?therapy={therapy.slug}&level=C")
    sql = " ".join(query["sql"] for query in read.captured_queries)
    assert "evidence_listed_by_level" in sql and "COUNT(*)" not in sql
    # Summed by the database (PairCertainty listed_total), one row, not pair by pair.
    assert "SUM(" in sql
    # A rating stored before the levels were kept: its lists by level are counted.
    PairCertainty.objects.filter(therapy=therapy).update(evidence_listed_by_level=None)
    assert counts(f"?therapy={therapy.slug}&level=C") == (4, 4)
    assert counts("?level=A") == (3, 3)
    # The therapy by slug (the filter), the stored count, the page, its two prefetches,
    # the data version: as many as when the rows are counted.
    with django_assert_num_queries(6):
        api_client.get(f"/api/v1/evidence/?therapy={therapy.slug}")
