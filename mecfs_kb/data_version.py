"""``X-Data-Version: <number>`` on every public page, feed, export and API response
(curation/versions.py): a client learns which version of the knowledge base it was
shown, and asks ``/api/v1/changes/?since=<number>`` what changed after it.

The version is read once per request (``data_version_of``): a page that shows it in
its footer, or an API list that carries it in its body, has read it already, and the
header costs nothing more; other responses pay one small indexed query. The admin, the
health check and the API's schema and docs are not stamped and pay nothing.

Placed inside ``PublicResponseCacheMiddleware``: a cached response keeps the header it
was stored with, which is the current version, because every publish, accepted change
or retraction saves a curated record, and that makes the response cache stale
(curation/cache.py)."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from curation.versions import data_version_of, data_version_was_read

HEADER = "X-Data-Version"
# Responses that are not about the data: the admin, the health check, and the API's
# schema and docs (they describe the API, whatever the data); and previews, which show
# what no data version holds yet (curation/preview.py).
UNSTAMPED_NAMESPACES = {"admin"}
UNSTAMPED_VIEWS = {
    "healthz",
    "api:schema",
    "api:docs",
    "curation:preview-record",
    "curation:preview-suggestion",
}

logger = logging.getLogger(__name__)


def _stamped(request, response) -> bool:
    if response.status_code >= 500:
        return False  # the database may be down: say nothing rather than fail again
    if data_version_was_read(request):
        return True  # shown already (a page's footer, a 404 page): the header is free
    match = getattr(request, "resolver_match", None)
    # No match: static files (WhiteNoise), redirects of CommonMiddleware.
    return (
        match is not None
        and match.namespace not in UNSTAMPED_NAMESPACES
        and match.view_name not in UNSTAMPED_VIEWS
    )


class DataVersionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _stamped(request, response) and not response.has_header(HEADER):
            try:
                response[HEADER] = str(data_version_of(request).number)
            except DatabaseError:
                logger.warning("data version unreadable; %s sent without it", request.path)
        return response
