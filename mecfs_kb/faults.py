"""While the database is unreachable, answer 503 instead of crashing (and recover by
itself: Django reconnects on the next request once the database answers again).

Two doors, one answer:

- ``DatabaseUnavailableMiddleware.process_exception`` catches the error raised by a
  view or while rendering its template (where nearly all queries run);
- ``server_error`` (``handler500``) catches it when it escapes from elsewhere (a
  middleware loading the session, for instance) and would otherwise be a 500.

The 503 page is rendered without a request context: it must not touch the database
(no session, no user) to say that the database is down.

Under ``/api/`` every error answers in the API's one error shape (curation/rest.py
``error_body``), those that never reach DRF's exception handler too: a 500 from a bug,
and Django's own 400s (``SuspiciousOperation``: a bad Host header, a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``, which DRF leaves to Django).
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import server_error as django_server_error

from curation.rest import error_body

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
MESSAGE = (
    "The knowledge base is temporarily unavailable (database unreachable). Please retry shortly."
)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        response = JsonResponse(error_body(503, "unavailable", MESSAGE), status=503)
    elif request.path == "/healthz":
        # Load balancers read this one (mecfs_kb/health.py answers the same way).
        response = JsonResponse(
            {"status": "unavailable", "database": "unreachable", "detail": MESSAGE}, status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN):
            logger.warning(
                "database unreachable, answering 503 for %s: %s", request.path, exception
            )
            return unavailable_response(request)
        return None


def server_error(request, template_name="500.html"):
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_DOWN):
        return unavailable_response(request)
    if _is_api(request):
        # The traceback is logged by Django (django.request); the client learns nothing of it.
        return JsonResponse(
            error_body(500, "server_error", "Something went wrong on our side; it was logged."),
            status=500,
        )
    return django_server_error(request, template_name)


def bad_request(request, exception, template_name="400.html"):
    if not _is_api(request):
        return django_bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        # Raised when DRF (or anything) reads request.body; DRF leaves it to Django.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is larger than the {limit} bytes the API accepts."
        return JsonResponse(error_body(413, "payload_too_large", detail), status=413)
    return JsonResponse(
        error_body(400, "bad_request", "The request was refused as malformed or unsafe."),
        status=400,
    )
