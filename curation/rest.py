"""The REST API's plumbing named in settings.REST_FRAMEWORK: the one error body for
every error, the JSON parser, pagination and throttles.

DRF imports these while it loads its own views, so this module must not import
rest_framework.views or anything built on it (see curation/viewsets.py for that)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.http import Http404
from rest_framework import authentication, exceptions, parsers, permissions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from curation.cache import public_count
from curation.clientip import client_ip
from curation.services import (
    RecordNotEditable,
    ReviewError,
    ReviewNoteRequired,
    ReviewPermissionError,
    ReviewTransitionError,
    VersionConflict,
)
from curation.sync import TOMBSTONE_SCHEMA
from curation.versions import data_version_of

# ---------------------------------------------------------------------------
# One error body for every error
# ---------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error response of the API, 4xx and 5xx."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(
        help_text="A stable machine-readable code: invalid, parse_error, not_authenticated, "
        "authentication_failed, permission_denied, not_found, method_not_allowed, "
        "not_acceptable, unsupported_media_type, not_editable, invalid_transition, "
        "not_published, stale, precondition_failed, possible_duplicate, payload_too_large, "
        "bad_request, "
        "throttled, server_error or unavailable."
    )
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="For 400: each query parameter or field at fault (`non_field_errors` for "
        "the record as a whole) with its messages; for 409 `possible_duplicate`: each "
        "field matching an existing source, naming it. Empty otherwise.",
    )


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error details (nested dicts and lists) as {"field" or "field.sub": [messages]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key == "__all__" else str(key)
            for sub_key, messages in _flatten(value, f"{prefix}{name}.").items():
                flat.setdefault(sub_key, []).extend(messages)
        return flat
    key = prefix[:-1] if prefix else "non_field_errors"
    if isinstance(detail, list):
        if any(isinstance(item, dict | list) for item in detail):
            flat = {}
            for index, item in enumerate(detail):
                if item:
                    for sub_key, messages in _flatten(item, f"{prefix}{index}.").items():
                        flat.setdefault(sub_key, []).extend(messages)
            return flat
        return {key: [str(item) for item in detail]}
    return {key: [str(detail)]}


def _from_django(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


class NotEditable(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_editable"
    default_detail = "Only draft or rejected records can be edited."


class InvalidTransition(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_transition"
    default_detail = "The record's status does not allow this review action."


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "The record changed since you read it (If-Match); nothing was changed."


def _from_review(exc: ReviewError) -> exceptions.APIException:
    """The review service's refusals (curation/services.py), as the API answers them."""
    if isinstance(exc, ReviewNoteRequired):
        return exceptions.ValidationError({"note": [exc.message]})
    if isinstance(exc, ReviewPermissionError):
        return exceptions.PermissionDenied(exc.message)
    if isinstance(exc, VersionConflict):
        return PreconditionFailed(exc.message)
    if isinstance(exc, ReviewTransitionError):
        return InvalidTransition(exc.message, code=exc.code)
    return exceptions.ValidationError({"non_field_errors": [exc.message]})


def error_body(status_code: int, code: str, detail: str, errors: dict | None = None) -> dict:
    return {"status": status_code, "code": code, "detail": detail, "errors": errors or {}}


def api_exception_handler(exc: Exception, context: dict) -> Any:
    """DRF's handler, with model validation as 400 and every body in one shape.

    What it leaves to Django (a bug, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, which is a
    SuspiciousOperation) is answered in the same shape by mecfs_kb/faults.py."""
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    elif isinstance(exc, RecordNotEditable):
        exc = NotEditable(str(exc))
    elif isinstance(exc, ReviewError):
        exc = _from_review(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a bug, which must surface as a 500 and be fixed
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        summary = "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items())
        response.data = error_body(
            response.status_code, "invalid", f"Invalid request. {summary}".strip(), errors
        )
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        # An exception may name the fields at fault (a 409 possible_duplicate does).
        errors = getattr(exc, "errors", None)
        response.data = error_body(response.status_code, code, str(exc.detail), errors)
    return response


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels (walked without recursion,
    so the check cannot itself run out of stack)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        pending.extend((item, depth + 1) for item in value)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with nesting bounded.

    Python's decoder recurses once per level: 100,000 nested brackets raise
    RecursionError, which DRF does not catch (a 500). Shallower nesting that still parses
    would reach code that recurses too (validation, the error body, orjson, which stops at
    255 levels). A record written through the API nests two levels (an object of lists)."""

    max_depth = 32

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise self._too_deep() from None
        if _deeper_than(data, self.max_depth):
            raise self._too_deep()
        return data

    def _too_deep(self) -> exceptions.ParseError:
        return exceptions.ParseError(
            f"JSON parse error - nested more than {self.max_depth} levels deep."
        )


# ---------------------------------------------------------------------------
# Pagination, throttling, permissions
# ---------------------------------------------------------------------------


class Pagination(PageNumberPagination):
    """Page numbers, strictly: ``page`` and ``page_size`` are whole numbers within their
    bounds (the schema states them) or a 400 naming the parameter, never a silent
    fallback to the default; a page past the end is a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100
    # No ``page=last``: the schema says ``page`` is a number, and the server agrees.
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        # Anonymous readers all see the same published rows: their count is kept until
        # the next publish (curation/cache.py) instead of a COUNT(*) per request.
        self.shared_count = not request.user.is_authenticated
        return super().paginate_queryset(queryset, request, view)

    def query_parameters(self) -> list[str]:
        """The query parameters this pagination reads (the strict-input check's list)."""
        return [self.page_query_param, self.page_size_query_param]

    @staticmethod
    def _whole_number(request, name: str, maximum: int | None = None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None  # absent: the default (an empty value is a mistake, said so)
        bound = f" from 1 to {maximum}" if maximum else ", 1 or more"
        number = int(raw) if raw.isascii() and raw.isdigit() else 0
        if number < 1 or (maximum is not None and number > maximum):
            raise exceptions.ValidationError({name: [f"“{raw}” is not a whole number{bound}."]})
        return number

    def parameters_check(self, request) -> None:
        """``page`` and ``page_size`` checked as a page of rows would check them, for a
        response that sends every row at once (a CSV list): bad values are still a 400."""
        self._whole_number(request, self.page_query_param)
        self._whole_number(request, self.page_size_query_param, self.max_page_size)

    def get_page_size(self, request):
        size = self._whole_number(request, self.page_size_query_param, self.max_page_size)
        return self.page_size if size is None else size

    def get_page_number(self, request, paginator):
        return self._whole_number(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = (
                    f"Results per page: 1 to {self.max_page_size} ({self.page_size} by default)."
                )
            else:
                parameter["description"] = "A page number, from 1; a page past the end is a 404."
        return parameters

    def django_paginator_class(self, queryset, page_size):
        paginator = DjangoPaginator(queryset, page_size)
        if self.shared_count:
            paginator.count = public_count(queryset)
        return paginator

    # Set by the list for a sync request (curation/sync.py), on its first page.
    tombstones = None

    def get_paginated_response(self, data):
        # The data version the rows were read at, also in X-Data-Version: a client
        # keeps it and later asks /api/v1/changes/?since=<it> what changed.
        body = {
            "count": self.page.paginator.count,
            "data_version": data_version_of(self.request).number,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        }
        if self.tombstones is not None:
            body["tombstones"] = self.tombstones
        return Response(body)

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        paginated["properties"] = {
            "count": properties.pop("count"),
            "data_version": {
                "type": "integer",
                "minimum": 0,
                "example": 42,
                "description": "The data version these rows show (as in the X-Data-Version "
                "header); 0 before anything was published. Pass it as `since` to "
                "/api/v1/changes/ to learn what changed after it.",
            },
            **properties,
        }
        paginated["properties"]["tombstones"] = {
            "type": "array",
            "items": TOMBSTONE_SCHEMA,
            "description": "Only with `updated_since` or `since_version`, on the first page, "
            "for curated records: every record of this list removed since (retracted, or "
            "resting on a record that was), whatever the other filters. Drop them from "
            "your copy.",
        }
        paginated["required"] = [*paginated["required"], "data_version"]
        return paginated


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``, or ``Bearer <key>`` (what generated clients send by
    default, openapi-python-client's AuthenticatedClient among them): the same key either
    way. Any other scheme, or a key that is not a user's, is a 401, never a silent
    anonymous read: an app with a broken token learns it at once."""

    keywords = ("Token", "Bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        scheme = header[0].decode("latin-1")
        if scheme.lower() not in {keyword.lower() for keyword in self.keywords}:
            raise exceptions.AuthenticationFailed(
                f"Unknown authorization scheme “{scheme[:20]}”: send "
                "`Authorization: Token <key>` (or `Bearer <key>`)."
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: send `Authorization: Token <key>`, one key, no spaces."
            )
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: the key has invalid characters."
            ) from None
        return self.authenticate_credentials(key)


class _RateFromSettings:
    """DRF copies the rates into the class when it is imported; read them per request
    instead, so that settings (and tests overriding them) take effect."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class _ByClientAddress:
    """Anonymous clients are counted per address as curation/clientip.py decides it.
    DRF's own ``get_ident`` believed any X-Forwarded-For (NUM_PROXIES unset), so a client
    rotating that header was never throttled; with NUM_PROXIES it would count hops from
    whoever connects, proxy or not."""

    def get_ident(self, request):
        return client_ip(request)


class AnonThrottle(_ByClientAddress, _RateFromSettings, AnonRateThrottle):
    pass


class UserThrottle(_ByClientAddress, _RateFromSettings, UserRateThrottle):
    """Token users, per user. DRF's counts anonymous clients too, per address: a second
    read and write of the cache on every anonymous API request, which AnonThrottle
    makes already. So it stands aside for them while the anonymous rate is the stricter
    one (as configured by default): the limit an anonymous client meets is the same."""

    def get_cache_key(self, request, view):
        if not request.user.is_authenticated:
            rates = api_settings.DEFAULT_THROTTLE_RATES
            if self._per_second(rates.get("anon")) <= self._per_second(rates.get("user")):
                return None
        return super().get_cache_key(request, view)

    def _per_second(self, rate: str | None) -> float:
        if rate is None:
            return float("inf")  # no rate: never throttled
        number, seconds = self.parse_rate(rate)
        return number / seconds


class ModelPermissionsOrAnonReadOnly(permissions.DjangoModelPermissionsOrAnonReadOnly):
    """DRF's, without building the view's queryset for a method that needs no model
    permission (GET, HEAD, OPTIONS). DRF calls ``get_queryset()`` (every visibility
    filter) only to learn the model, then asks the user for an empty list of
    permissions, which anyone has; the answer is the same without it."""

    def has_permission(self, request, view):
        if request.method in self.perms_map and not self.perms_map[request.method]:
            return bool(request.user) and (
                request.user.is_authenticated or not self.authenticated_users_only
            )
        return super().has_permission(request, view)
