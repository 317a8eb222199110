"""bench/ only: the SQL a request runs is captured for the floor (mecfs_kb/querycount.py),
a streamed download's to its end (issue 14: the floor of the therapy download ran a
quarter of the app's statements, those read before its first byte)."""

import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from findings import pages
from mecfs_kb import querycount
from tests.factories import make_abnormality, make_evidence, make_therapy, rated_once

pytestmark = pytest.mark.django_db


def test_a_streamed_download_has_its_statements_captured_to_its_end(
    tmp_path, monkeypatch, settings
):
    settings.PUBLIC_CACHE_SECONDS = 0
    monkeypatch.setattr(querycount, "CAPTURE_DIR", str(tmp_path))
    # Streamed from the first character, one therapy a chunk: every chunk its own reads.
    monkeypatch.setattr(pages, "EXPORT_WHOLE_CHARS", 0)
    monkeypatch.setattr(pages, "EXPORT_CHUNK_ROWS", 10)
    nk = make_abnormality(slug="low-nk")
    with rated_once():
        for _ in range(4):
            make_evidence(therapy=make_therapy(), abnormality=nk)
    middleware = querycount.QueryCountMiddleware(WSGIHandler().get_response)
    request = RequestFactory().get(
        "/treatments/?abnormality=low-nk&format=csv", HTTP_X_BENCH_SCENARIO="csv_export"
    )
    response = middleware(request)
    assert response.streaming
    path = tmp_path / "csv_export.json"
    before = int(response["X-DB-Queries"])
    body = b"".join(response.streaming_content)
    assert body.count(b"\n") >= 5  # the header and four therapies
    captured = json.loads(path.read_text())
    # Every statement, those run while the rows were sent too (each chunk reads its pairs).
    assert len(captured) > before
    assert sum("treatments_paircertainty" in sql for sql, _params in captured) >= 4


def test_a_response_sent_whole_has_its_statements_captured_when_made(tmp_path, monkeypatch):
    monkeypatch.setattr(querycount, "CAPTURE_DIR", str(tmp_path))
    make_therapy(slug="one")
    middleware = querycount.QueryCountMiddleware(WSGIHandler().get_response)
    request = RequestFactory().get("/api/v1/therapies/one/", HTTP_X_BENCH_SCENARIO="detail")
    response = middleware(request)
    assert response.status_code == 200
    captured = json.loads((tmp_path / "detail.json").read_text())
    assert len(captured) == int(response["X-DB-Queries"]) > 0
