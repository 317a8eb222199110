"""Keyset paging (``cursor``) of the claim lists, their bounded count, and the
contradiction links as each reader may see them (curation/rest.py KeysetPagination)."""

import base64
import json

import pytest

from curation.models import Status
from curation.rest import KeysetPagination
from findings.models import Level
from tests.factories import (
    make_evidence,
    make_finding,
    make_linked_claims,
    make_source,
    make_therapy,
    rated_once,
)


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def walk_by_number(client, url: str) -> list[int]:
    found, page = [], 1
    while True:
        response = client.get(f"{url}&page={page}")
        assert response.status_code == 200
        found += ids(response)
        if response.json()["next"] is None:
            return found
        page += 1


def walk_by_cursor(client, url: str) -> list[int]:
    found, url = [], f"{url}&cursor=start"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["previous"] is None
        found += ids(response)
        url = body["next"]
    return found


def cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def mixed_evidence(therapy, n: int = 12) -> None:
    """Items whose order needs every key: levels, years (some unknown) and ids tie."""
    years = [2011, 2020, None]
    for i in range(n):
        make_evidence(
            therapy=therapy,
            level=[Level.A, Level.B, Level.C][i % 3],
            source=make_source(year=years[(i // 3) % 3]),
        )


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [1, 4, 5, 100])
def test_a_cursor_walk_lists_the_same_rows_in_the_same_order_as_page_numbers(api_client, page_size):
    therapy = make_therapy()
    mixed_evidence(therapy)
    url = f"/api/v1/evidence/?therapy={therapy.slug}&page_size={page_size}"

    by_cursor = walk_by_cursor(api_client, url)

    assert by_cursor == walk_by_number(api_client, url)
    assert len(by_cursor) == 12


@pytest.mark.django_db
def test_a_cursor_walk_of_findings_matches_page_numbers(api_client):
    for i in range(7):
        make_finding(level=[Level.A, Level.C][i % 2], source=make_source(year=[None, 2015][i % 2]))
    url = "/api/v1/findings/?page_size=3"

    assert walk_by_cursor(api_client, url) == walk_by_number(api_client, url)


@pytest.mark.django_db
def test_items_published_after_the_cursor_neither_repeat_nor_go_missing(api_client):
    therapy = make_therapy()
    mixed_evidence(therapy, n=6)
    first = api_client.get(f"/api/v1/evidence/?therapy={therapy.slug}&page_size=3&cursor=start")
    # A new item that sorts before the cursor: page numbers would shift by one.
    make_evidence(therapy=therapy, level=Level.A, source=make_source(year=2030))

    second = api_client.get(first.json()["next"])

    seen = ids(first) + ids(second)
    assert len(set(seen)) == 6
    assert second.json()["next"] is None


@pytest.mark.django_db
def test_a_cursor_page_hides_drafts_from_readers_and_shows_them_to_curators(
    api_client, curator_api
):
    therapy = make_therapy()
    published = make_evidence(therapy=therapy)
    draft = make_evidence(therapy=therapy, status=Status.DRAFT)
    on_a_draft_source = make_evidence(therapy=therapy, source=make_source(status=Status.DRAFT))
    url = f"/api/v1/evidence/?therapy={therapy.slug}&cursor=start"

    assert ids(api_client.get(url)) == [published.pk]
    assert set(ids(curator_api.get(url))) == {published.pk, draft.pk, on_a_draft_source.pk}


@pytest.mark.django_db
def test_contradiction_links_show_only_what_the_reader_may_see(api_client, curator_api):
    evidence = make_evidence()
    shown = make_evidence()
    draft = make_evidence(status=Status.DRAFT)
    on_a_draft_source = make_evidence(source=make_source(status=Status.DRAFT))
    evidence.contradicted_by.add(shown, draft, on_a_draft_source)
    shown_finding = make_finding()
    draft_finding = make_finding(status=Status.DRAFT)
    evidence.contradicting_findings.add(shown_finding, draft_finding)
    url = f"/api/v1/evidence/?therapy={evidence.therapy.slug}"

    for client, items, findings in [
        (api_client, {shown.pk}, {shown_finding.pk}),
        (
            curator_api,
            {shown.pk, draft.pk, on_a_draft_source.pk},
            {shown_finding.pk, draft_finding.pk},
        ),
    ]:
        for read in (client.get(url), client.get(f"{url}&cursor=start")):
            (row,) = read.json()["results"]
            assert set(row["contradicted_by"]) == items
            assert set(row["contradicting_findings"]) == findings
        detail = client.get(f"/api/v1/evidence/{evidence.pk}/").json()
        assert set(detail["contradicted_by"]) == items


@pytest.mark.django_db
def test_a_cursor_page_counts_up_to_the_cap_and_says_when_there_are_more(api_client, monkeypatch):
    therapy = make_therapy()
    mixed_evidence(therapy, n=5)
    url = f"/api/v1/evidence/?therapy={therapy.slug}&page_size=2"

    monkeypatch.setattr(KeysetPagination, "count_cap", 3)
    capped = api_client.get(f"{url}&cursor=start").json()
    monkeypatch.setattr(KeysetPagination, "count_cap", 5)
    exact = api_client.get(f"{url}&cursor=start").json()

    assert (capped["count"], capped["count_is_estimate"]) == (3, True)
    assert (exact["count"], exact["count_is_estimate"]) == (5, False)
    assert list(capped)[:3] == ["count", "count_is_estimate", "data_version"]


@pytest.mark.django_db
def test_page_numbers_keep_their_exact_count_and_no_estimate_flag(api_client, monkeypatch):
    therapy = make_therapy()
    mixed_evidence(therapy, n=5)
    monkeypatch.setattr(KeysetPagination, "count_cap", 3)

    body = api_client.get(f"/api/v1/evidence/?therapy={therapy.slug}&page_size=2").json()

    assert body["count"] == 5
    assert "count_is_estimate" not in body
    assert "page=2" in body["next"] and "cursor" not in body["next"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "cursor=xyz",
        "cursor=",
        f"cursor={cursor(['B', 2011])}",  # too few keys
        f"cursor={cursor(['B', '2011', 1])}",  # a year that is not a number
        f"cursor={cursor(['B', 2011, True])}",
        f"cursor={cursor([None, 2011, 1])}",  # a level is never empty
        f"cursor={cursor(['B', 2011, 2**70])}",
        f"cursor={cursor({'level': 'B'})}",
        "cursor=start&page=2",
        "cursor=start&sort=-year",
        "cursor=" + "A" * 300,
    ],
)
def test_a_bad_cursor_is_a_400_naming_the_parameter(api_client, query):
    make_evidence()

    response = api_client.get(f"/api/v1/evidence/?{query}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


@pytest.mark.django_db
def test_a_cursor_with_an_unknown_year_continues_the_list(api_client):
    therapy = make_therapy()
    mixed_evidence(therapy, n=9)
    url = f"/api/v1/evidence/?therapy={therapy.slug}&page_size=100"
    order = ids(api_client.get(url))
    unknown = next(
        i
        for i, row in enumerate(api_client.get(url).json()["results"])
        if row["citation"]["year"] is None
    )
    row = api_client.get(url).json()["results"][unknown]

    after = api_client.get(f"{url}&cursor={cursor([row['level'], None, row['id']])}")

    assert ids(after) == order[unknown + 1 :]


# Query counts of cursor pages: the same for 1 and 50 rows. Anonymous: the bounded
# COUNT, the rows (keys found in a subquery), the two contradiction prefetches (one for
# findings), the data version; a token adds its user and the user's permissions (own
# and group, one query).
@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 50])
def test_cursor_pages_take_a_fixed_number_of_queries(
    api_client, curator_api, django_assert_num_queries, n
):
    therapy = make_therapy()
    with rated_once():
        make_linked_claims(therapy, n)
    # A token: + the token with its user and their permissions, one query.
    for client, extra in [(api_client, 0), (curator_api, 1)]:
        for url, queries in [
            ("/api/v1/evidence/?cursor=start&page_size=100", 5),
            ("/api/v1/findings/?cursor=start&page_size=100", 4),
        ]:
            with django_assert_num_queries(queries + extra):
                first = client.get(url)
            assert first.status_code == 200
            assert len(first.json()["results"]) > n - 1
        # + the therapy's slug checked by the filter.
        with django_assert_num_queries(6 + extra):
            page = client.get(f"/api/v1/evidence/?therapy={therapy.slug}&page_size=1&cursor=start")
        with django_assert_num_queries(6 + extra):
            assert client.get(page.json()["next"]).status_code == 200
