"""After a publish, the public caches are filled in the background (issue 14).

A publish makes every cached public value stale at once (curation/cache.py). Without
this task the first reader of each page after a publish paid for it: half a second for
the home page's matrix, a second for a therapy export at literature scale. So each new
data version queues one task (``public_cache_warm_later``), run by a worker (RQ, with
Redis: docs/deploy.md), that asks the site for its most-read pages and exports as an
anonymous reader would, through the whole middleware stack: the response cache keeps
each answer under the new public version, exactly as if a reader had asked, and the
per-publish data caches (the matrix, each therapy's summary, list counts) fill on the
way. Readers who come before it has finished compute what they need, as before.

What is warmed, and why (bounded: about thirty requests however large the data):

- the home page (the matrix);
- page 1 of each reader list (therapies, abnormalities, sources, evidence gaps): where
  readers land from the menu;
- the therapy list's CSV for each abnormality in the matrix (the most-connected, at most
  20): the download readers take from an abnormality's row;
- the therapy list's CSV and JSON downloads, whole.

Deeper pages, other filters and the API are left to their first reader.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signals
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections, connection
from django.urls import reverse
from django_tasks import task

from curation.cache import public_cache_version
from treatments.api import abnormality_summaries_warm
from treatments.matrix import matrix_cached
from treatments.models import Therapy

logger = logging.getLogger(__name__)

# A publish while the task runs: its own task warms its version; this one also starts
# again (at most this many rounds), so that nothing it filled is left under a stale one.
MAX_ROUNDS = 2

_handler: BaseHandler | None = None


def warm_paths() -> list[str]:
    """The addresses warmed after a publish, most-read first. Reads the matrix (cached:
    the home page, warmed first, has built it)."""
    therapies = reverse("treatments:therapy-list")
    # Most-read first: readers who come before the warm reaches a page compute it.
    paths = [
        reverse("treatments:home"),
        therapies,
        reverse("findings:abnormality-list"),
        reverse("findings:source-list"),
    ]
    paths += [
        f"{therapies}?{urlencode({'abnormality': row.slug, 'format': 'csv'})}"
        for row in matrix_cached().rows
    ]
    paths += [
        f"{therapies}?format=csv",
        f"{therapies}?format=json",
        # Last: the slowest page to build (every pair's rating; seconds at scale).
        reverse("treatments:gaps"),
    ]
    return paths


@contextmanager
def _one_connection() -> Iterator[None]:
    """The warm's requests share the task's database connection: Django would close it
    at the end of each request (``close_old_connections``), and inside a test's
    transaction that would end the test."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _request(base: str, path: str) -> WSGIRequest:
    site, target = urlsplit(base), urlsplit(path)
    https = site.scheme == "https"
    return WSGIRequest(
        {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": site.path,
            "PATH_INFO": target.path,
            "QUERY_STRING": target.query,
            "SERVER_NAME": site.hostname or "",
            "SERVER_PORT": str(site.port or (443 if https else 80)),
            "HTTP_HOST": site.netloc,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": site.scheme,
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
    )


def warm_get(path: str, base: str | None = None) -> tuple[int, str]:
    """Ask for ``path`` as an anonymous reader under ``base`` (``SITE_URL``), through
    every middleware, reading the body to its end (a streamed download is kept by the
    response cache only once read whole). Returns the status and the ``X-Cache`` header
    ("miss": computed and kept now; "hit": it was kept already)."""
    global _handler
    if _handler is None:
        _handler = BaseHandler()
        _handler.load_middleware()
    response = _handler.get_response(_request(base or settings.SITE_URL, path))
    try:
        if response.streaming:
            for _ in response.streaming_content:
                pass
    finally:
        response.close()
    return response.status_code, response.get("X-Cache", "")


def _warm_data() -> None:
    # No site address: at least the per-publish data every page reads.
    matrix_cached()
    abnormality_summaries_warm(Therapy.objects.published().values_list("pk", flat=True))


def public_cache_warm_now() -> dict[str, str]:
    """Fill the public caches for the current public version; returns what each
    address answered and how long it took ("200 miss 512 ms" …), for the log."""
    if settings.PUBLIC_CACHE_SECONDS <= 0:
        return {}  # nothing is cached, nothing to fill
    in_transaction = connection.in_atomic_block
    if not in_transaction:
        close_old_connections()
    answers: dict[str, str] = {}
    try:
        with _one_connection():
            for _ in range(MAX_ROUNDS):
                version = public_cache_version()
                started = time.monotonic()
                if settings.SITE_URL:
                    for path in warm_paths():
                        asked = time.monotonic()
                        status, hit = warm_get(path)
                        took = (time.monotonic() - asked) * 1000
                        answers[path] = f"{status} {hit} {took:.0f} ms".replace("  ", " ")
                else:
                    _warm_data()
                logger.info(
                    "public cache v%s warmed in %.1f s: %s",
                    version,
                    time.monotonic() - started,
                    answers or "data only (no SITE_URL)",
                )
                if public_cache_version() == version:
                    break
    finally:
        if not in_transaction:
            close_old_connections()
    return answers


@task()
def public_cache_warm() -> dict[str, str]:
    """The background task queued once per data version (curation/cache.py
    ``public_cache_warm_later``). A failure is logged by the task framework and by the
    worker; readers then compute what they need, as without it."""
    return public_cache_warm_now()
