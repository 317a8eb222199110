"""Whole responses for readers, cached until the next publish (issue 6).

Readers ask the same few questions again and again (the overview, a therapy, a
filtered list), and public data changes only when an editor publishes. So an
anonymous GET is answered from the shared cache when the same URL was answered
since the last publish: the cache key includes the *public version*
(curation/cache.py) that every publish bumps, so nothing stale is served after a
publish, on any app server. Django's own helpers build the keys, so responses that
``Vary`` on a header are kept apart per value of that header.

Readers' browsers may keep a page for ``PUBLIC_HTTP_MAX_AGE`` seconds and revalidate
it with its ETag (304 without running the view).

A streamed response (a large download, findings/pages.py) is kept too, in pieces: each
piece is stored as it is sent, and the entry that names them once the last one has gone,
so that neither the first reader nor the ones after hold the whole body in memory. A
stream the reader abandons is not kept; one longer than ``STREAM_MAX_BYTES`` neither.

Not cached: anything but GET/HEAD, requests with a token or a session (curators may
see drafts), responses that are not 200, files (release downloads are read from disk),
set cookies or say private/no-store.
Off when ``PUBLIC_CACHE_SECONDS`` is 0 (the default under DEBUG, so that tests and
development always see fresh data) or ``PUBLIC_RESPONSE_CACHE`` is off.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, StreamingHttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.utils.cache import (
    get_cache_key,
    get_conditional_response,
    has_vary_header,
    learn_cache_key,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)
from django.utils.text import compress_string

from curation.cache import public_cache_version
from mecfs_kb.compression import PublicGZipMiddleware
from mecfs_kb.data_version import HEADER as DATA_VERSION_HEADER

UNCACHEABLE = ("private", "no-cache", "no-store")
# A streamed body is kept up to this size (its pieces are written as it is sent).
STREAM_MAX_BYTES = 64 * 1024 * 1024
# Pieces written (and read) together, in one round trip to the cache.
PIECES_PER_TRIP = 16

logger = logging.getLogger(__name__)


@dataclass
class StreamedEntry:
    """A streamed response in the cache: its status and headers here, its body in
    ``pieces`` entries named ``<key>:<n>``."""

    status: int
    headers: list[tuple[str, str]]
    key: str
    pieces: int
    etag: str


def _eligible(request) -> bool:
    return (
        settings.PUBLIC_CACHE_SECONDS > 0
        and settings.PUBLIC_RESPONSE_CACHE
        and request.method in ("GET", "HEAD")
        and "HTTP_AUTHORIZATION" not in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _cacheable(response) -> bool:
    control = response.get("Cache-Control", "").lower()
    return (
        response.status_code == 200
        and not isinstance(response, FileResponse)
        and not response.cookies
        and not any(word in control for word in UNCACHEABLE)
        and not has_vary_header(response, "*")
    )


class PublicResponseCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _eligible(request):
            return self.get_response(request)
        prefix = f"pv{public_cache_version()}"
        key = get_cache_key(request, prefix, "GET", cache=cache)
        cached = cache.get(key) if key else None
        if isinstance(cached, StreamedEntry):
            cached = _streamed_response(cached)
        if cached is not None:
            cached["X-Cache"] = "hit"
            # Revalidation by ETag: answered without running any view.
            response = get_conditional_response(request, etag=cached.get("ETag"), response=cached)
            if response is not cached and cached.has_header(DATA_VERSION_HEADER):
                # Django's 304 keeps only the caching headers; the version is still true.
                response[DATA_VERSION_HEADER] = cached[DATA_VERSION_HEADER]
            if response is cached:
                _send_kept_gzip(request, cached)
            return response
        response = self.get_response(request)
        if _cacheable(response):
            if response.streaming:
                self._store_streamed(request, response, prefix)
            elif hasattr(response, "render") and callable(response.render):
                response.add_post_render_callback(lambda r: self._store(request, r, prefix))
            else:
                self._store(request, response, prefix)
        return response

    def _store(self, request, response, prefix: str) -> None:
        timeout = settings.PUBLIC_CACHE_SECONDS
        if not response.has_header("ETag"):
            set_response_etag(response)
        patch_cache_control(response, public=True, max_age=settings.PUBLIC_HTTP_MAX_AGE)
        response["X-Cache"] = "miss"
        key = learn_cache_key(request, response, timeout, prefix, cache=cache)
        _keep_gzip(response)
        # Kept as sent: its body, not the data it was rendered from (DRF's ``data``, which
        # a hit never reads: pickling it cost as much again as the body, and a therapy
        # list's summaries, JSON text in an orjson.Fragment, cannot be pickled).
        data = response.__dict__.pop("data", _NO_DATA)
        try:
            cache.set(key, response, timeout)
        finally:
            if data is not _NO_DATA:
                response.data = data
        # The response on its way out is compressed by the gzip middleware as usual.
        response.__dict__.pop(KEPT_GZIP, None)

    def _store_streamed(self, request, response, prefix: str) -> None:
        timeout = settings.PUBLIC_CACHE_SECONDS
        patch_cache_control(response, public=True, max_age=settings.PUBLIC_HTTP_MAX_AGE)
        response["X-Cache"] = "miss"
        key = learn_cache_key(request, response, timeout, prefix, cache=cache)
        headers = [(name, value) for name, value in response.items() if name != "X-Cache"]
        response.streaming_content = _kept(
            response.streaming_content, key, timeout, response.status_code, headers
        )


_NO_DATA = object()

# The body compressed once, when the response is cached, kept with it (issue 14):
# PublicGZipMiddleware, outside this cache, compressed the same body again on every hit
# (about half the CPU of a cached list). Only while that middleware is on.
KEPT_GZIP = "_kept_gzip"
GZIP_MIDDLEWARE = "mecfs_kb.compression.PublicGZipMiddleware"


def _keep_gzip(response) -> None:
    """Keep ``response``'s body compressed as GZipMiddleware would compress it, when it
    would (200 bytes or more, and smaller for it)."""
    if GZIP_MIDDLEWARE not in settings.MIDDLEWARE or response.has_header("Content-Encoding"):
        return
    body = response.content
    if len(body) < 200:
        return
    packed = compress_string(body, max_random_bytes=PublicGZipMiddleware.max_random_bytes)
    if len(packed) < len(body):
        setattr(response, KEPT_GZIP, packed)


def _send_kept_gzip(request, response) -> None:
    """A cached response sent compressed from its kept copy, as GZipMiddleware sends a
    response it compresses (its ``Vary``, ``Content-Length``, weak ETag and
    ``Content-Encoding``), to a client that accepts gzip; the middleware then leaves it
    (it has a ``Content-Encoding``). A response with no kept copy, or a client that
    does not accept gzip, is left to the middleware as before. Responses here carry no
    secret (no session, no token, no cookie: ``_eligible``, ``_cacheable``), the
    condition PublicGZipMiddleware compresses under."""
    packed = response.__dict__.pop(KEPT_GZIP, None)
    if packed is None or GZIP_MIDDLEWARE not in settings.MIDDLEWARE:
        return
    patch_vary_headers(response, ("Accept-Encoding",))
    if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        return
    response.content = packed
    response.headers["Content-Length"] = str(len(packed))
    etag = response.get("ETag")
    if etag and etag.startswith('"'):
        response.headers["ETag"] = "W/" + etag
    response.headers["Content-Encoding"] = "gzip"


def _kept(
    content: Iterable[bytes], key: str, timeout: int, status: int, headers: list
) -> Iterator[bytes]:
    """``content`` as it is sent, each piece also written to the cache; the entry that
    names the pieces is written last, once the whole body has gone."""
    digest = hashlib.md5(usedforsecurity=False)
    waiting: dict[str, bytes] = {}
    count = size = 0
    keeping = True
    for piece in content:
        yield piece
        if not keeping:
            continue
        size += len(piece)
        if size > STREAM_MAX_BYTES:
            keeping, waiting = False, {}
            continue
        digest.update(piece)
        waiting[f"{key}:{count}"] = piece
        count += 1
        if len(waiting) >= PIECES_PER_TRIP:
            cache.set_many(waiting, timeout)
            waiting = {}
    if keeping:
        if waiting:
            cache.set_many(waiting, timeout)
        etag = f'"{digest.hexdigest()}"'
        cache.set(key, StreamedEntry(status, headers, key, count, etag), timeout)


def _pieces(entry: StreamedEntry) -> Iterator[bytes]:
    for start in range(0, entry.pieces, PIECES_PER_TRIP):
        names = [
            f"{entry.key}:{n}" for n in range(start, min(start + PIECES_PER_TRIP, entry.pieces))
        ]
        found = cache.get_many(names)
        for name in names:
            if name not in found:
                # Evicted since: end the transfer unfinished (the client sees an
                # incomplete download) rather than send a file with rows missing.
                logger.error("cached download %s lost a piece; transfer cut", entry.key)
                raise ConnectionAbortedError(name)
            yield found[name]


def _streamed_response(entry: StreamedEntry) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_pieces(entry), status=entry.status)
    for name, value in entry.headers:
        response[name] = value
    response["ETag"] = entry.etag
    return response
