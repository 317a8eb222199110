"""The REST API's plumbing named in settings.REST_FRAMEWORK: the one error body for
every error, the JSON parser, pagination and throttles.

DRF imports these while it loads its own views, so this module must not import
rest_framework.views or anything built on it (see curation/viewsets.py for that)."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import operator
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections, router
from django.db.models import Q
from django.db.models.sql.where import WhereNode
from django.http import Http404
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions, parsers, permissions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.utils.urls import remove_query_param

from curation.cache import public_count
from curation.clientip import client_ip
from curation.prepared import prepared
from curation.services import (
    RecordNotEditable,
    ReviewError,
    ReviewNoteRequired,
    ReviewPermissionError,
    ReviewTransitionError,
    VersionConflict,
)
from curation.sync import TOMBSTONE_SCHEMA
from curation.userreads import TokenRead, fills_permission_cache
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
    # With one of the view's ``bounded_count_parameters`` given (a filter whose exact
    # count reads every matching row, however few a page shows: ``q``, a word in a third
    # of 500,000 claims, 1 s), ``count`` is counted up to this many rows, or up to one
    # row past the page asked for if that is more: ``count_is_estimate`` then says
    # whether there are more (``count`` a lower bound).
    count_cap = 1000
    bounded = False

    def paginate_queryset(self, queryset, request, view=None):
        names = getattr(view, "bounded_count_parameters", ())
        self.bounded = any(request.query_params.get(name) for name in names)
        # Anonymous readers all see the same published rows: their count is kept until
        # the next publish (curation/cache.py) instead of a COUNT(*) per request.
        self.shared_count = not request.user.is_authenticated
        # Without that cache, a count the list keeps stored for readers where its filters
        # allow (TherapyEvidenceViewSet.stored_count): read, not counted (issue 14).
        stored = getattr(view, "stored_count", None)
        uncached = settings.PUBLIC_CACHE_SECONDS <= 0
        self.stored_count = stored() if self.shared_count and stored and uncached else None
        return super().paginate_queryset(queryset, request, view)

    def shared_count_of(self, queryset) -> int:
        if self.stored_count is not None:
            return self.stored_count
        return public_count(queryset)

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
        self.count_into(paginator, queryset, page_size)
        return paginator

    def count_into(self, paginator, queryset, page_size: int) -> None:
        """Set the paginator's count where it is not ``queryset.count()``: bounded (see
        ``count_cap``), or shared by readers."""
        if self.bounded:
            page = self.get_page_number(self.request, paginator)
            # Room for the page asked for and one row past it: its links are right.
            limit = max(self.count_cap, page * page_size + 1)
            counted = queryset.order_by().values("pk")[: limit + 1].count()
            paginator.count = min(counted, limit)
            self.count_is_estimate = counted > limit
        elif self.shared_count:
            paginator.count = self.shared_count_of(queryset)

    # Set by the list for a sync request (curation/sync.py), on its first page.
    tombstones = None

    def is_first_page(self) -> bool:
        """Whether the rows are the list's first (where a sync request lists tombstones)."""
        return self.page.number == 1

    def count_fields(self) -> dict:
        if self.bounded:
            return {
                "count": self.page.paginator.count,
                "count_is_estimate": self.count_is_estimate,
            }
        return {"count": self.page.paginator.count}

    def get_paginated_response(self, data):
        # The data version the rows were read at, also in X-Data-Version: a client
        # keeps it and later asks /api/v1/changes/?since=<it> what changed.
        body = {
            **self.count_fields(),
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


def page_rows(queryset, bottom: int, top: int):
    """``queryset[bottom:top]``, in one query. On SQLite the page's keys are found first
    (sorted and skipped in a narrow subquery) and only those rows read whole: its sorter
    carried every column of every row before the page (``?page=50`` of the 100k evidence
    list: 0.95 s, half that by key). PostgreSQL sorts the whole rows faster than it plans
    the subquery (a hash join over every source: 4x slower at 500k), so it reads them
    directly.

    The outer query is the keys alone (``_by_keys``): with the list's conditions repeated
    there, SQLite planned it from the filter's index and tested every matching row
    against the keys (a therapy's evidence at level B or better at 100k: 11.5 ms, 0.2
    ms by key)."""
    if connections[queryset.db].vendor != "sqlite":
        return queryset[bottom:top]
    return _by_keys(queryset).filter(pk__in=queryset.values("pk")[bottom:top])


def _by_keys(queryset):
    """``queryset`` without its conditions, for rows chosen by key: its columns, joins,
    annotations and order kept. Only where every join is to one row at most (a foreign
    key or a one-to-one): a join to many rows left without its condition would repeat
    rows. Otherwise ``queryset`` itself."""
    query = queryset.query
    for join in query.alias_map.values():
        field = getattr(join, "join_field", None)
        if field is not None and not (field.many_to_one or field.one_to_one):
            return queryset
    rows = queryset.all()
    rows.query.where = WhereNode()
    return rows


class NarrowPaginator(DjangoPaginator):
    """A page's rows read by ``page_rows``: same rows, same order, same single query."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        rows = page_rows(rows, bottom, top) if hasattr(rows, "query") else rows[bottom:top]
        return self._get_page(rows, number, self)


class KeysetPagination(Pagination):
    """Page numbers as ``Pagination``, or a ``cursor`` (keyset pagination): a position in
    the list's default order, so a deep page costs what the first one does and rows
    added meanwhile neither repeat nor go missing. ``cursor=start`` asks for the first
    page; each page's ``next`` link carries the cursor of the one after (``previous`` is
    null: keep the links you followed). With a cursor, ``count`` is counted up to
    ``count_cap`` rows: past it the body says ``count_is_estimate: true`` and ``count``
    is a lower bound. For lists ordered by their model's ``Meta.ordering`` (every key a
    whole number, text or null); with ``sort`` a cursor is refused (400)."""

    cursor_query_param = "cursor"
    cursor_start = "start"
    cursor_description = (
        "Keyset paging instead of `page`: `start` for the first page, then the cursor in "
        "each page's `next` link. Deep pages cost what the first does; not with `sort`. "
        f"`count` is then counted up to {Pagination.count_cap} (`count_is_estimate` says "
        "when there are more)."
    )

    def django_paginator_class(self, queryset, page_size):
        paginator = NarrowPaginator(queryset, page_size)
        self.count_into(paginator, queryset, page_size)
        return paginator

    def query_parameters(self) -> list[str]:
        return [*super().query_parameters(), self.cursor_query_param]

    def paginate_queryset(self, queryset, request, view=None):
        self.cursor = None
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        if self.page_query_param in request.query_params:
            raise self._cursor_error("Give `page` or `cursor`, not both.")
        if request.query_params.get("sort"):
            raise self._cursor_error("A cursor follows the default order: drop `sort`.")
        keys = self._keys(queryset)
        position = self._decode(raw, queryset.model, keys)
        size = self.get_page_size(request)
        after = queryset
        if position is not None:
            nulls_largest = connections[queryset.db].features.nulls_order_largest
            after = queryset.filter(_after(keys, position, nulls_largest))
        rows = list(page_rows(after, 0, size + 1))
        more = len(rows) > size
        rows = rows[:size]
        self.cursor = raw
        self.next_cursor = _encode([_value(rows[-1], name) for name, _ in keys]) if more else None
        counted = queryset.order_by().values("pk")[: self.count_cap + 1].count()
        self.bounded_count = (min(counted, self.count_cap), counted > self.count_cap)
        self.page = Page(rows, 1 if position is None else 2, None)
        self.display_page_controls = False  # no page numbers to show in the browsable API
        return rows

    def is_first_page(self) -> bool:
        if self.cursor is None:
            return super().is_first_page()
        return self.cursor == self.cursor_start

    def parameters_check(self, request) -> None:
        super().parameters_check(request)
        raw = request.query_params.get(self.cursor_query_param)
        if raw is not None and raw != self.cursor_start:
            self._decode_values(raw)

    def get_next_link(self):
        if self.cursor is None:
            return super().get_next_link()
        if self.next_cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}{urlencode({self.cursor_query_param: self.next_cursor})}"

    def get_previous_link(self):
        return None if self.cursor is not None else super().get_previous_link()

    def count_fields(self) -> dict:
        if self.cursor is None:
            return super().count_fields()
        count, estimate = self.bounded_count
        return {"count": count, "count_is_estimate": estimate}

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_description,
                "schema": {"type": "string", "maxLength": 200},
            },
        ]

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        paginated["properties"] = {
            "count": properties.pop("count"),
            "count_is_estimate": {
                "type": "boolean",
                "description": "Only on pages read with `cursor` or searched with `q`: true "
                "when the list holds more rows than were counted, and `count` is then a lower "
                "bound; false when `count` is exact. A cursor page counts up to "
                f"{self.count_cap} rows; a page number searched with `q`, up to "
                f"{self.count_cap} or one row past the page asked for, whichever is more.",
            },
            **properties,
        }
        return paginated

    # -- cursors -------------------------------------------------------------------

    def _cursor_error(self, message: str) -> exceptions.ValidationError:
        return exceptions.ValidationError({self.cursor_query_param: [message]})

    def _keys(self, queryset) -> list[tuple[str, bool]]:
        """The default order's keys, as (field path, descending)."""
        ordering = queryset.query.order_by or queryset.model._meta.ordering
        if not all(isinstance(key, str) for key in ordering):
            raise TypeError("a cursor follows an order of field names only")
        return [(key.lstrip("-"), key.startswith("-")) for key in ordering]

    def _decode_values(self, raw: str) -> list:
        try:
            values = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"==="))
        except (ValueError, UnicodeError, binascii.Error):
            values = None
        if not isinstance(values, list) or not values or len(raw) > 200:
            raise self._cursor_error(
                f"“{raw[:40]}” is not a cursor: send `start`, or the cursor of a `next` link."
            )
        return values

    def _decode(self, raw: str, model, keys) -> list | None:
        if raw == self.cursor_start:
            return None
        values = self._decode_values(raw)
        ok = len(values) == len(keys)
        for value, (name, _) in zip(values, keys, strict=False):
            field = _field(model, name)
            # Compared in SQL with the column: of its type, or the database would refuse.
            kind = int if "IntegerField" in field.get_internal_type() or field.primary_key else str
            if value is None:
                ok = ok and field.null
            elif type(value) is not kind:
                ok = False
            elif kind is int:
                ok = ok and abs(value) < 2**63
            else:
                ok = ok and "\x00" not in value
        if not ok:
            raise self._cursor_error(
                "The cursor does not fit this list (it belongs to another, or was changed): "
                "start again with `start`."
            )
        return values


def _field(model, path: str):
    """The model field at the end of a lookup path (``source__year``, ``pk``)."""
    for name in path.split("__"):
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        model = field.related_model or model
    return field


def _value(row, path: str):
    if isinstance(row, dict):  # a row read with values() (curation/rowlists.py)
        return row[path]
    value = functools.reduce(getattr, path.split("__"), row)
    return getattr(value, "pk", value)


def _encode(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _after(keys: list[tuple[str, bool]], values: list, nulls_largest: bool) -> Q:
    """Rows after ``values`` in the order of ``keys``, nulls placed as the database
    places them (first or last: ``nulls_order_largest``), the last key unique."""
    terms = []
    same = Q()
    for (name, descending), value in zip(keys, values, strict=True):
        nulls_first = nulls_largest == descending
        if value is None:
            beyond = Q(**{f"{name}__isnull": False}) if nulls_first else None
            equal = Q(**{f"{name}__isnull": True})
        else:
            beyond = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            if not nulls_first:
                beyond |= Q(**{f"{name}__isnull": True})
            equal = Q(**{name: value})
        if beyond is not None:
            terms.append(same & beyond)
        same &= equal
    return functools.reduce(operator.or_, terms)


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

    def authenticate_credentials(self, key):
        """DRF's: the token's user, refused (401) if the key is no one's or the user is
        inactive, with DRF's messages; read by one fixed statement
        (curation/userreads.py ``TokenRead``) instead of the ORM's
        ``select_related("user").get(key=…)``, which took 0.47 ms of CPU to build on
        every request with a token, this about 0.12 ms (issue 14). The same statement
        reads the user's permissions, which the request asks for next (one round trip
        less). The token comes back with its user attached, as DRF's does."""
        token_model = self.get_model()
        alias = router.db_for_read(token_model)
        read = TokenRead.of(alias, token_model, fills_permission_cache())
        with connections[alias].cursor() as cursor, prepared():
            cursor.execute(read.sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(gettext_lazy("Invalid token."))
        token, user = read.records(row)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(gettext_lazy("User inactive or deleted."))
        return (user, token)


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
