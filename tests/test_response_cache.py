"""Readers' responses cached until the next publish, HTTP caching headers, and the
orjson renderer (issue 6)."""

import datetime
import decimal
import json

import pytest
from django.core.cache import cache
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from curation.models import Status
from mecfs_kb.renderers import ORJSONRenderer
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.PUBLIC_CACHE_SECONDS = 600
    settings.PUBLIC_HTTP_MAX_AGE = 60
    cache.clear()
    yield
    cache.clear()


def test_a_second_anonymous_request_is_answered_from_the_cache_without_queries(
    client, cached, django_assert_num_queries
):
    therapy = factories.make_therapy(summary="Reads well.")
    first = client.get(therapy.get_absolute_url())

    # No query at all: the public version and the response both come from the cache.
    with django_assert_num_queries(0):
        second = client.get(therapy.get_absolute_url())

    assert first["X-Cache"] == "miss"
    assert second["X-Cache"] == "hit"
    assert second.content == first.content
    assert "public" in second["Cache-Control"]
    assert "max-age=60" in second["Cache-Control"]


def test_a_publish_makes_the_next_request_see_the_new_data(
    client, cached, django_capture_on_commit_callbacks
):
    therapy = factories.make_therapy(summary="Old summary.")
    assert b"Old summary." in client.get(therapy.get_absolute_url()).content

    with django_capture_on_commit_callbacks(execute=True):
        therapy.summary = "New summary."
        therapy.save()
    response = client.get(therapy.get_absolute_url())

    assert response["X-Cache"] == "miss"
    assert b"New summary." in response.content


def test_unpublishing_removes_the_page_at_once(client, cached, django_capture_on_commit_callbacks):
    therapy = factories.make_therapy()
    assert client.get(therapy.get_absolute_url()).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        therapy.status = Status.RETRACTED
        therapy.save()

    # Not the cached page: the retracted therapy's own page (410, RetractedPageMixin).
    gone = client.get(therapy.get_absolute_url())
    assert gone.status_code == 410
    assert "An editor withdrew this therapy" in gone.content.decode()


def test_a_browser_revalidates_with_the_etag_and_gets_304(client, cached):
    therapy = factories.make_therapy()
    etag = client.get(therapy.get_absolute_url())["ETag"]

    response = client.get(therapy.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304


def test_curators_and_token_holders_are_never_served_from_the_cache(client, cached, curator):
    therapy = factories.make_therapy()
    client.get(therapy.get_absolute_url())

    with_token = client.get(therapy.get_absolute_url(), HTTP_AUTHORIZATION="Token abc")
    client.force_login(curator)
    with_session = client.get(therapy.get_absolute_url())

    assert "X-Cache" not in with_token
    assert "X-Cache" not in with_session


def test_errors_are_not_cached(client, cached):
    assert client.get("/treatments/no-such-therapy/").status_code == 404

    response = client.get("/treatments/no-such-therapy/")

    assert "X-Cache" not in response


def test_the_cache_is_off_by_default_in_development_and_tests(client):
    therapy = factories.make_therapy()

    client.get(therapy.get_absolute_url())
    response = client.get(therapy.get_absolute_url())

    assert "X-Cache" not in response


def test_the_orjson_renderer_writes_what_the_standard_renderer_writes():
    data = {
        "name": "Synthetic",
        "level": gettext_lazy("A"),
        "n": 3,
        "ratio": decimal.Decimal("1.50"),
        "on": datetime.date(2011, 5, 1),
        "at": datetime.datetime(2011, 5, 1, 12, 30, 5, 123456, tzinfo=datetime.UTC),
        "time": datetime.time(9, 15),
        "items": [{"a": None, "b": True}],
    }

    fast = json.loads(ORJSONRenderer().render(data))
    standard = json.loads(JSONRenderer().render(data))

    assert fast == standard


def test_the_response_cache_can_be_turned_off_on_its_own(client, cached, settings):
    settings.PUBLIC_RESPONSE_CACHE = False
    therapy = factories.make_therapy()

    client.get(therapy.get_absolute_url())
    response = client.get(therapy.get_absolute_url())

    assert "X-Cache" not in response


def test_list_counts_are_kept_until_the_next_publish_and_a_refused_filter_counts_nothing(
    client, cached, django_capture_on_commit_callbacks
):
    factories.make_source(title="One")
    assert b"1 source" in client.get("/sources/?page=1", HTTP_ACCEPT="text/html").content

    with django_capture_on_commit_callbacks(execute=True):
        factories.make_source(title="Two")

    assert b"2 sources" in client.get("/sources/?page=1&x=1").content
    assert client.get("/sources/?year_min=nineteen").status_code == 400


# --- the compressed copy kept with a cached response (issue 14) -------------------------


def _gunzip(body: bytes) -> bytes:
    import gzip

    return gzip.decompress(body)


@pytest.mark.parametrize("url", ["/", "/api/v1/therapies/", "therapy page", "/feeds/evidence/"])
def test_a_hit_sends_the_body_compressed_once_when_it_was_cached(client, cached, url, monkeypatch):
    """What a client that accepts gzip gets from a hit is what it got from the miss:
    the same body once decompressed, and the headers GZipMiddleware gives (weak ETag,
    Vary: Accept-Encoding, Content-Encoding, Content-Length); nothing is compressed
    again for it."""
    therapy = factories.make_evidence().therapy
    url = therapy.get_absolute_url() if url == "therapy page" else url
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert first["X-Cache"] == "miss"
    assert first["Content-Encoding"] == "gzip"

    import django.middleware.gzip
    import django.utils.text

    def refuse(*args, **kwargs):
        raise AssertionError("compressed again on a hit")

    monkeypatch.setattr(django.middleware.gzip, "compress_string", refuse)
    monkeypatch.setattr(django.utils.text, "compress_string", refuse)
    hit = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")

    assert hit["X-Cache"] == "hit"
    assert hit["Content-Encoding"] == "gzip"
    assert _gunzip(hit.content) == _gunzip(first.content)
    assert hit["ETag"] == first["ETag"]
    assert hit["ETag"].startswith('W/"')
    assert hit["Content-Length"] == str(len(hit.content))
    assert "Accept-Encoding" in hit["Vary"]
    assert hit["Content-Type"] == first["Content-Type"]
    # A later hit gets the same again (the copy is kept, not used up).
    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert again.content == hit.content


def test_a_hit_for_a_client_without_gzip_is_the_plain_body(client, cached):
    therapy = factories.make_evidence().therapy
    url = therapy.get_absolute_url()
    plain = client.get(url)
    client.get(url, HTTP_ACCEPT_ENCODING="gzip")  # a compressed hit before it

    hit = client.get(url)

    assert hit["X-Cache"] == "hit"
    assert not hit.has_header("Content-Encoding")
    assert hit.content == plain.content
    assert hit["ETag"] == plain["ETag"]
    assert "Accept-Encoding" in hit["Vary"]


def test_a_compressed_hit_revalidates_with_its_weak_etag(client, cached):
    therapy = factories.make_evidence().therapy
    url = therapy.get_absolute_url()
    client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    hit = client.get(url, HTTP_ACCEPT_ENCODING="gzip")

    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=hit["ETag"])

    assert again.status_code == 304
    assert again.content == b""


def test_a_short_response_is_kept_and_sent_plain(client, cached):
    client.get("/healthz", HTTP_ACCEPT_ENCODING="gzip")
    hit = client.get("/healthz", HTTP_ACCEPT_ENCODING="gzip")
    assert not hit.has_header("Content-Encoding")
