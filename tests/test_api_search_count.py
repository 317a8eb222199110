"""The claim lists searched with ``q`` count their rows up to a bound (curation/rest.py
``Pagination.count_cap``), and PostgreSQL finds the words by trigram indexes (treatments
migration 0021): issue 14."""

import pytest
from django.db import connection

from curation.rest import KeysetPagination
from tests.factories import make_evidence, make_finding, make_therapy

LISTS = {
    "evidence": lambda statement: make_evidence(statement=statement),
    "findings": lambda statement: make_finding(statement=statement),
}


def five_matches(kind: str) -> None:
    for n in range(5):
        LISTS[kind](f"Claim {n} about a searchable marker.")
    for n in range(2):
        LISTS[kind](f"Claim {n} about something else.")


# cap, page, page_size -> count, count_is_estimate, rows on the page, a next page
CASES = [
    # One page of 2 asked for: counted up to the cap (3) of the 5 matches.
    (3, 1, 2, 3, True, 2, True),
    # Page 2 needs 4 rows and one past them: counted up to 5, all there are.
    (3, 2, 2, 5, False, 2, True),
    (3, 3, 2, 5, False, 1, False),
    # More room than matches: exact.
    (10, 1, 2, 5, False, 2, True),
    (10, 1, 5, 5, False, 5, False),
]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", LISTS)
@pytest.mark.parametrize("cap,page,size,count,estimate,rows,more", CASES)
def test_a_search_counts_up_to_the_cap_or_past_the_page(
    api_client, monkeypatch, kind, cap, page, size, count, estimate, rows, more
):
    five_matches(kind)
    monkeypatch.setattr(KeysetPagination, "count_cap", cap)

    response = api_client.get(f"/api/v1/{kind}/?q=MARKER&page={page}&page_size={size}")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["count"], body["count_is_estimate"]) == (count, estimate)
    assert list(body)[:3] == ["count", "count_is_estimate", "data_version"]
    assert len(body["results"]) == rows
    assert all("marker" in row["statement"] for row in body["results"])
    assert (body["next"] is not None) == more
    if more:
        assert f"page={page + 1}" in body["next"] and "q=MARKER" in body["next"]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", LISTS)
def test_a_search_walked_page_by_page_finds_every_match_once(api_client, monkeypatch, kind):
    five_matches(kind)
    monkeypatch.setattr(KeysetPagination, "count_cap", 1)
    found, url = [], f"/api/v1/{kind}/?q=marker&page_size=2"
    while url:
        body = api_client.get(url).json()
        found += [row["id"] for row in body["results"]]
        url = body["next"]

    assert len(found) == len(set(found)) == 5


@pytest.mark.django_db
@pytest.mark.parametrize("kind", LISTS)
def test_a_page_past_a_searchs_matches_is_a_404(api_client, monkeypatch, kind):
    five_matches(kind)
    monkeypatch.setattr(KeysetPagination, "count_cap", 1)

    assert api_client.get(f"/api/v1/{kind}/?q=marker&page=3&page_size=2").status_code == 200
    assert api_client.get(f"/api/v1/{kind}/?q=marker&page=4&page_size=2").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "q=&", "therapy={therapy}&"])
def test_without_a_search_the_count_stays_exact_and_unflagged(api_client, monkeypatch, query):
    therapy = make_therapy()
    for n in range(5):
        make_evidence(therapy=therapy, statement=f"Claim {n} about a searchable marker.")
    monkeypatch.setattr(KeysetPagination, "count_cap", 1)

    body = api_client.get(f"/api/v1/evidence/?{query.format(therapy=therapy.slug)}").json()

    assert body["count"] == 5
    assert "count_is_estimate" not in body


@pytest.mark.django_db
def test_a_search_with_a_cursor_keeps_the_cursors_count(api_client, monkeypatch):
    five_matches("evidence")
    monkeypatch.setattr(KeysetPagination, "count_cap", 3)

    body = api_client.get("/api/v1/evidence/?q=marker&cursor=start&page_size=4").json()

    assert (body["count"], body["count_is_estimate"]) == (3, True)
    assert len(body["results"]) == 4


def test_the_schema_says_when_a_count_is_an_estimate():
    schema = KeysetPagination().get_paginated_response_schema({"type": "object"})
    described = schema["properties"]["count_is_estimate"]["description"]

    assert "`cursor`" in described and "`q`" in described


TRIGRAM_INDEXES = {
    "treatments_therapyevidence": {
        "evidence_statement_trgm",
        "evidence_plain_summary_trgm",
        "evidence_quote_trgm",
    },
    "findings_finding": {
        "finding_statement_trgm",
        "finding_plain_summary_trgm",
        "finding_quote_trgm",
    },
}


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
@pytest.mark.parametrize("table", TRIGRAM_INDEXES)
def test_the_contains_filter_has_trigram_indexes_of_what_it_compares(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        found = dict(cursor.fetchall())

    for name in TRIGRAM_INDEXES[table]:
        column = name.split("_", 1)[1].removesuffix("_trgm")
        # The expression icontains writes (UPPER(column) LIKE UPPER(...)), so it is used.
        assert f"gin (upper({column}) gin_trgm_ops)" in found[name]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_a_rare_word_is_found_by_its_trigram_index():
    for n in range(30):
        make_evidence(statement=f"Claim {n} about something common.")
    make_evidence(statement="The one claim naming nortorpheresis.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE treatments_therapyevidence")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM treatments_therapyevidence "
            "WHERE UPPER(statement::text) LIKE UPPER(%s)",
            ["%nortorpheresis%"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "evidence_statement_trgm" in plan
