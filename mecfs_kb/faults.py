"""While the database is unreachable, answer 503 instead of crashing (and recover by
itself: Django reconnects on the next request once the database answers again).

Two doors, one answer:

- ``DatabaseUnavailableMiddleware.process_exception`` catches the error raised by a
  view or while rendering its template (where nearly all queries run);
- ``server_error`` (``handler500``) catches it when it escapes from elsewhere (a
  middleware loading the session, for instance) and would otherwise be a 500.

The 503 page is rendered without a request context: it must not touch the database
(no session, no user) to say that the database is down.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
MESSAGE = (
    "The knowledge base is temporarily unavailable (database unreachable). Please retry shortly."
)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/") or request.path == "/healthz":
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
    return django_server_error(request, template_name)
