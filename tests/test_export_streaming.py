"""Reader downloads of any size in constant memory (issue 14): a list's rows are read a
chunk at a time, and a file larger than a bound streams; either way its bytes are what
the whole file was before (JsonResponse, curation.csvfile.csv_write)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import JsonResponse

from curation.csvfile import csv_write
from findings import pages
from tests import factories

pytestmark = pytest.mark.django_db

ROWS = [
    {"name": "Lénárt's ≥ 50 % \u2014 “quoted”", "n": 3, "list": ["a", "=b"], "none": None},
    {"name": '=HYPERLINK("x")', "n": -2, "list": [], "none": datetime.date(2020, 1, 2)},
    {"name": "line\nbreak, comma", "n": 0, "list": ["ü"], "none": ""},
]
FIELDS = ("name", "n", "list", "none")


def whole_csv(rows) -> bytes:
    """The download as the code before streaming wrote it."""
    response = io.StringIO()
    csv_write(
        response,
        fieldnames=FIELDS,
        rows=({key: pages._csv_value(value) for key, value in row.items()} for row in rows),
    )
    return response.getvalue().encode()


def whole_json(rows, data_version) -> bytes:
    return JsonResponse(
        {"count": len(rows), "data_version": data_version, "results": rows},
        json_dumps_params={"ensure_ascii": False, "indent": 1},
    ).content


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("rows", [ROWS, ROWS[:1], []])
@pytest.mark.parametrize("bound", [10**9, 10])
def test_a_download_has_the_bytes_of_the_whole_file_streamed_or_not(rf, monkeypatch, rows, bound):
    monkeypatch.setattr(pages, "EXPORT_WHOLE_CHARS", bound)
    monkeypatch.setattr(pages, "EXPORT_PIECE_CHARS", 7)
    request = rf.get("/x/")

    def export(export_format):
        return pages.export_response(
            request,
            rows=iter(rows),
            fields=FIELDS,
            basename="x",
            export_format=export_format,
            count=lambda: len(rows),
        )

    csv_response, json_response = export("csv"), export("json")

    assert body(csv_response) == whole_csv(rows)
    assert body(json_response) == whole_json(rows, 0)
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert json_response["Content-Type"] == "application/json"
    assert csv_response["Content-Disposition"] == 'attachment; filename="x-v0.csv"'
    # Streamed only past the bound (10 characters: the header alone is past it).
    assert csv_response.streaming == (bound == 10)


@pytest.mark.parametrize(
    "url",
    [
        "/treatments/?format=csv",
        "/treatments/?format=json",
        "/abnormalities/?format=json",
        "/sources/?format=csv",
        "/gaps/?format=csv",
    ],
)
def test_a_large_list_download_streams_the_same_bytes_in_chunks(client, monkeypatch, url):
    for n in range(5):
        factories.make_evidence(statement=f"Item {n}")
    whole = client.get(url)
    assert not whole.streaming

    monkeypatch.setattr(pages, "EXPORT_CHUNK_ROWS", 2)
    monkeypatch.setattr(pages, "EXPORT_WHOLE_CHARS", 100)
    streamed = client.get(url)

    assert streamed.status_code == 200
    assert streamed.streaming
    assert b"".join(streamed.streaming_content) == whole.content
    assert streamed["Content-Disposition"] == whole["Content-Disposition"]
    assert streamed["X-Data-Version"] == whole["X-Data-Version"]


def test_records_are_read_a_chunk_at_a_time_in_the_lists_order():
    for n in range(5):
        factories.make_source(title=f"Source {n}")
    from findings.models import Source

    sources = Source.objects.order_by("pk")
    chunks = list(pages.export_chunks(sources, size=2))

    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    assert [s.pk for chunk in chunks for s in chunk] == list(sources.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "url, weight",
    [
        ("/treatments/?format=csv", 10),
        ("/treatments/?format=json", 10),
        ("/sources/?format=csv", 1),
    ],
)
def test_a_list_whose_rows_read_many_objects_reads_fewer_records_a_chunk(
    client, monkeypatch, url, weight
):
    """A therapy's row reads its stored pairs, statuses and harms (dozens at scale): its
    download holds a tenth as many records a chunk as a list of sources does."""
    for n in range(25):
        factories.make_evidence(statement=f"Item {n}")
    sizes = []
    chunks = pages.export_chunks

    def spied(object_list, size=None):
        sizes.append(size)
        return chunks(object_list, size)

    monkeypatch.setattr(pages, "export_chunks", spied)
    monkeypatch.setattr(pages, "EXPORT_CHUNK_ROWS", 20)
    whole = client.get(url)
    assert whole.status_code == 200
    assert sizes == [20 // weight]
    # The same bytes as one chunk of every record.
    monkeypatch.setattr(pages, "EXPORT_CHUNK_ROWS", 1000)
    assert client.get(url).content == whole.content


@pytest.fixture
def cached(settings):
    from django.core.cache import cache

    settings.PUBLIC_CACHE_SECONDS = 600
    cache.clear()
    yield cache
    cache.clear()


def test_a_streamed_download_is_kept_in_pieces_and_served_again_from_the_cache(
    client, cached, monkeypatch, django_assert_num_queries
):
    from mecfs_kb import response_cache

    for n in range(5):
        factories.make_evidence(statement=f"Item {n}")
    monkeypatch.setattr(pages, "EXPORT_CHUNK_ROWS", 2)
    monkeypatch.setattr(pages, "EXPORT_WHOLE_CHARS", 100)
    monkeypatch.setattr(pages, "EXPORT_PIECE_CHARS", 50)
    monkeypatch.setattr(response_cache, "PIECES_PER_TRIP", 3)
    url = "/treatments/?format=json"

    first = client.get(url)
    first_body = b"".join(first.streaming_content)
    with django_assert_num_queries(0):
        second = client.get(url)
        second_body = b"".join(second.streaming_content)

    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert second.streaming and second_body == first_body
    assert second["X-Data-Version"] == first["X-Data-Version"]
    assert second["Content-Disposition"] == first["Content-Disposition"]
    # A browser's revalidation: 304, no body, no view.
    assert client.get(url, HTTP_IF_NONE_MATCH=second["ETag"]).status_code == 304


def test_a_stream_the_reader_abandons_is_not_kept(client, cached, monkeypatch):
    from mecfs_kb.response_cache import StreamedEntry

    for n in range(5):
        factories.make_evidence(statement=f"Item {n}")
    monkeypatch.setattr(pages, "EXPORT_WHOLE_CHARS", 100)
    monkeypatch.setattr(pages, "EXPORT_PIECE_CHARS", 50)

    first = client.get("/treatments/?format=csv")
    next(iter(first.streaming_content))  # the first piece, then the reader goes away
    # As the test client closes a response it has read (closing the database connection
    # at the end of a request would end the test's transaction).
    request_finished.disconnect(close_old_connections)
    try:
        first.close()
    finally:
        request_finished.connect(close_old_connections)

    # A piece may be there (it expires), but no entry names the pieces.
    kept = [cached.get(key.removeprefix(":1:")) for key in list(cached._cache)]
    assert not any(isinstance(value, StreamedEntry) for value in kept)


def test_a_streamed_entry_that_lost_a_piece_cuts_the_transfer(client, cached, monkeypatch):
    for n in range(5):
        factories.make_evidence(statement=f"Item {n}")
    monkeypatch.setattr(pages, "EXPORT_WHOLE_CHARS", 100)
    monkeypatch.setattr(pages, "EXPORT_PIECE_CHARS", 50)
    b"".join(client.get("/treatments/?format=csv").streaming_content)
    for key in list(cached._cache):  # locmem: drop a piece, as an eviction would
        if key.endswith(":1"):
            cached.delete(key.removeprefix(":1:"))

    hit = client.get("/treatments/?format=csv")
    with pytest.raises(ConnectionAbortedError):
        b"".join(hit.streaming_content)
