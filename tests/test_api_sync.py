"""Incremental sync (issue 16): every list takes `updated_since` and `since_version`,
sorts by last update, and gives a sync client tombstones for what it must drop."""

import datetime

import pytest
from django.utils import timezone

from curation.models import DataChangeAction, moderated_models
from curation.services import record_retract
from curation.versions import data_version_batch, data_version_record
from tests.factories import make_evidence, make_finding, make_harm, make_source, make_therapy
from tests.test_api_csv import LISTS

pytestmark = pytest.mark.django_db


def published(record):
    """As a publish records it: a new data version that added ``record``."""
    return data_version_record(record=record, action=DataChangeAction.ADDED).version.number


def ids(response) -> list:
    return [row.get("id", row.get("slug")) for row in response.json()["results"]]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    "param, value",
    [
        ("updated_since", "yesterday"),
        ("updated_since", "2026-13-40T00:00:00Z"),
        # Out of range once in UTC: refused, not an overflow in the database layer.
        ("updated_since", "0001-01-01T00:00:00+01:00"),
        ("updated_since", "9999-12-31T23:59:59-14:00"),
        ("since_version", "-1"),
        ("since_version", "abc"),
        ("since_version", "1.5"),
        ("since_version", str(2**31)),
    ],
)
def test_a_bad_value_is_a_400_naming_the_parameter(api_client, name, param, value):
    response = api_client.get(f"/api/v1/{name}/", {param: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [param]


@pytest.mark.parametrize("name", LISTS)
def test_every_list_takes_both_and_sorts_by_last_update(api_client, name):
    for params in (
        {"since_version": 0},
        {"updated_since": "2000-01-01T00:00:00Z"},
        {"sort": "-updated"},
        {"sort": "updated"},
    ):
        response = api_client.get(f"/api/v1/{name}/", params)
        assert response.status_code == 200, (name, params, response.content)


def test_since_version_lists_only_what_changed_after_it(api_client):
    old = make_evidence()
    before = published(old)
    new = make_evidence()
    published(new)

    response = api_client.get("/api/v1/evidence/", {"since_version": before})

    assert ids(response) == [new.pk]
    assert response.json()["tombstones"] == []
    assert sorted(ids(api_client.get("/api/v1/evidence/", {"since_version": 0}))) == sorted(
        [old.pk, new.pk]
    )


def test_a_claim_is_listed_again_when_its_source_changes(api_client):
    finding = make_finding()
    before = published(finding)
    data_version_record(record=finding.source, action=DataChangeAction.REVISED, fields=["title"])

    assert ids(api_client.get("/api/v1/findings/", {"since_version": before})) == [finding.pk]


def test_a_therapy_is_listed_again_when_its_evidence_changes(api_client):
    therapy = make_therapy()
    other = make_therapy()
    before = max(published(therapy), published(other))
    published(make_evidence(therapy=therapy))

    response = api_client.get("/api/v1/therapies/", {"since_version": before})

    assert ids(response) == [therapy.slug]


@pytest.mark.parametrize("offset", ["+23:19", "-17:36", "Z"])
def test_any_offset_python_reads_is_compared_in_utc(api_client, offset):
    # PostgreSQL refuses offsets beyond ±15:59; they are turned into UTC first.
    make_harm()

    response = api_client.get("/api/v1/harms/", {"updated_since": f"2000-01-01T00:00:00{offset}"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_updated_since_lists_rows_changed_at_or_after_that_time(api_client):
    old = make_harm()
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    type(old).objects.filter(pk=old.pk).update(updated_at=three_days_ago)
    # Its source (shown as its citation) did not change since either.
    type(old.source).objects.filter(pk=old.source_id).update(updated_at=three_days_ago)
    new = make_harm()
    since = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    response = api_client.get("/api/v1/harms/", {"updated_since": since})

    assert ids(response) == [new.pk]


def test_retracted_and_withdrawn_records_are_tombstones_with_minimal_fields(api_client, editor):
    kept = make_evidence()
    gone = make_evidence()
    source = make_source()
    resting = make_evidence(source=source)
    before = max(published(kept), published(gone), published(source), published(resting))
    record_retract(record=gone, user=editor, note="The trial was misreported.")
    record_retract(record=source, user=editor, note="Not a real study.")

    body = api_client.get("/api/v1/evidence/", {"since_version": before}).json()

    assert body["results"] == []  # nothing published changed
    tombstones = {t["id"]: t for t in body["tombstones"]}
    assert set(tombstones) == {gone.pk, resting.pk}
    assert tombstones[gone.pk]["status"] == "retracted"
    assert tombstones[gone.pk]["tombstone"] is True
    assert tombstones[gone.pk]["reason"] == "The trial was misreported."
    assert tombstones[gone.pk]["retracted_at"]
    assert set(tombstones[gone.pk]) == {
        "id",
        "slug",
        "tombstone",
        "status",
        "retracted_at",
        "reason",
    }
    assert tombstones[resting.pk]["status"] == "withdrawn"
    assert tombstones[resting.pk]["reason"] == ""


def test_tombstones_are_given_only_to_sync_requests_and_on_the_first_page(api_client, editor):
    gone = make_evidence()
    published(gone)
    for _ in range(3):
        published(make_evidence())
    record_retract(record=gone, user=editor, note="Why.")

    assert "tombstones" not in api_client.get("/api/v1/evidence/").json()
    first = api_client.get("/api/v1/evidence/", {"since_version": 0, "page_size": 2}).json()
    second = api_client.get(
        "/api/v1/evidence/", {"since_version": 0, "page_size": 2, "page": 2}
    ).json()
    assert [t["id"] for t in first["tombstones"]] == [gone.pk]
    assert "tombstones" not in second


def test_a_never_published_draft_is_no_tombstone(api_client):
    make_evidence(status="draft")

    body = api_client.get("/api/v1/evidence/", {"since_version": 0}).json()

    assert body["tombstones"] == []


def test_therapies_tombstones_carry_the_slug(api_client, editor):
    therapy = make_therapy()
    published(therapy)
    record_retract(record=therapy, user=editor, note="Merged into another entry.")

    body = api_client.get("/api/v1/therapies/", {"since_version": 0}).json()

    assert [(t["id"], t["slug"]) for t in body["tombstones"]] == [(therapy.pk, therapy.slug)]


def test_sort_by_last_update_puts_the_newest_first(api_client):
    first = make_source()
    second = make_source()
    type(first).objects.filter(pk=first.pk).update(updated_at=timezone.now())

    response = api_client.get("/api/v1/sources/", {"sort": "-updated"})

    assert ids(response)[:2] == [first.pk, second.pk]


def test_changes_and_releases_take_since_version_as_their_version(api_client):
    therapy = make_therapy()
    before = published(therapy)
    published(make_therapy())

    changes = api_client.get("/api/v1/changes/", {"since_version": before}).json()

    assert [c["version"] for c in changes["results"]] == [before + 1]
    assert "tombstones" not in changes


# A sync request adds one query (the tombstones) to the list's own, whatever the rows.
SYNC_QUERIES = [
    # COUNT, the page, its two prefetches, the tombstones, data version.
    ("/api/v1/evidence/?since_version=0", 6),
    # COUNT, the page, its prefetch, the tombstones, data version.
    ("/api/v1/findings/?since_version=0&updated_since=2000-01-01T00:00:00Z", 5),
    # COUNT, the therapies, harms, pair summaries, ratings, the tombstones, data version.
    ("/api/v1/therapies/?since_version=0", 7),
    # COUNT, the rows, data version (no tombstones: ratings are recomputed, not retracted).
    ("/api/v1/pairs/?since_version=0", 3),
]


@pytest.mark.parametrize("n", [1, 50])
def test_sync_requests_take_a_fixed_number_of_queries(api_client, django_assert_num_queries, n):
    from tests.test_api_reads import _rows

    _rows(n)
    with data_version_batch():  # everything published in one data version
        for model in moderated_models():
            for record in model.objects.published():
                data_version_record(record=record, action=DataChangeAction.ADDED)
    for url, queries in SYNC_QUERIES:
        with django_assert_num_queries(queries):
            response = api_client.get(url)
        assert response.status_code == 200, url
        assert response.json()["count"] >= n, url
