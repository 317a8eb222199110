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

Not cached: anything but GET/HEAD, requests with a token or a session (curators may
see drafts), responses that are not 200, stream, set cookies or say private/no-store.
Off when ``PUBLIC_CACHE_SECONDS`` is 0 (the default under DEBUG, so that tests and
development always see fresh data) or ``PUBLIC_RESPONSE_CACHE`` is off.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils.cache import (
    get_cache_key,
    get_conditional_response,
    has_vary_header,
    learn_cache_key,
    patch_cache_control,
    set_response_etag,
)

from curation.cache import public_cache_version
from mecfs_kb.data_version import HEADER as DATA_VERSION_HEADER

UNCACHEABLE = ("private", "no-cache", "no-store")


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
        and not response.streaming
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
        if cached is not None:
            cached["X-Cache"] = "hit"
            # Revalidation by ETag: answered without running any view.
            response = get_conditional_response(request, etag=cached.get("ETag"), response=cached)
            if response is not cached and cached.has_header(DATA_VERSION_HEADER):
                # Django's 304 keeps only the caching headers; the version is still true.
                response[DATA_VERSION_HEADER] = cached[DATA_VERSION_HEADER]
            return response
        response = self.get_response(request)
        if _cacheable(response):
            if hasattr(response, "render") and callable(response.render):
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
        cache.set(key, response, timeout)
