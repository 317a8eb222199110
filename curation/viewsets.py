"""Base viewsets and schema class of the REST API: conditional GET, ``Vary``, draft
writes through curation/services.py, and the error responses every operation documents.
Resource code lives in ``<app>/api.py``."""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from functools import wraps

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from curation import openapi  # noqa: F401  (registers the schema extensions)
from curation.apicsv import CSVListMixin, CSVSchemaMixin
from curation.bundles import bundle_publish, bundle_submit
from curation.linkreads import keep_prefetched, prefetch_links
from curation.models import Suggestion, version_token
from curation.preconditions import data_etag, if_match_version, record_etag
from curation.prepared import prepared
from curation.resources import api_kind, api_resource_model
from curation.rest import ErrorSerializer, PreconditionFailed, error_body
from curation.revisions import suggestion_diff
from curation.rowlists import RowPlan
from curation.serializers import SuggestionDetailSerializer
from curation.services import TRANSITIONS, record_check_can_edit, record_create, record_edit
from curation.sync import sync_tombstones
from curation.versions import data_version_of


@csrf_exempt  # it changes nothing, and must answer every method in the API's shape
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error shape, not with an HTML page."""
    return JsonResponse(
        error_body(404, "not_found", f"There is no API resource at {request.path}."), status=404
    )


# ---------------------------------------------------------------------------
# Conditional GET and the base viewset
# ---------------------------------------------------------------------------


def conditional_get(view):
    """ETag from the data version and the rendered body (``data_etag``), so it changes
    whenever the representation does, and 304 for a matching If-None-Match: Django's
    ConditionalGetMiddleware, for the API's views only, and for HEAD as well as GET.
    A detail response keeps the record's own ETag (``finalize_response``)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response

        def tag(rendered):
            if not rendered.streaming and not rendered.has_header("ETag"):
                number = data_version_of(request).number
                rendered["ETag"] = data_etag(number, rendered.content)
            return get_conditional_response(request, etag=rendered.get("ETag"), response=rendered)

        if hasattr(response, "render") and not response.is_rendered:
            response.add_post_render_callback(tag)
            return response
        return tag(response)

    return wrapped


def unknown_parameters_check(given, known) -> None:
    """A 400 naming each query parameter the operation does not read, with the nearest
    one it does: a misspelt filter (``abnormalty=``) must not answer the unfiltered list."""
    known = sorted(known)
    errors = {}
    for name in given:
        if name in known:
            continue
        nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" Did you mean “{nearest[0]}”?" if nearest else ""
        errors[name[:100]] = [
            f"Unknown query parameter.{hint} This operation takes: {', '.join(known)}."
        ]
    if errors:
        raise exceptions.ValidationError(errors)


class ApiViewSetMixin(CSVListMixin):
    """What every API viewset shares: conditional GET, ``Vary: Authorization``
    (a curator's token shows drafts that anonymous readers never see), and strict query
    parameters (an unknown one is a 400); lists in CSV too (curation/apicsv.py), with
    what a page of rows needs added by ``prepare_rows``."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return conditional_get(super().as_view(*args, **kwargs))

    def query_parameters(self) -> set[str]:
        """The query parameters this request's operation reads, from what declares them:
        ``format`` (DRF's content override, every operation), and for a list its
        FilterSet's filters and the pagination's parameters. Add a filter to the FilterSet
        and it is known here and in the schema alike."""
        known = {api_settings.URL_FORMAT_OVERRIDE}
        if getattr(self, "action", None) == "list":
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                known.update(filterset_class.base_filters)
            if self.paginator is not None:
                known.update(self.paginator.query_parameters())
        return known

    def initial(self, request, *args, **kwargs):
        # After authentication, permissions and throttling: a 401 or 429 says more.
        super().initial(request, *args, **kwargs)
        if hasattr(self, request.method.lower()):  # else a 405 says more
            unknown_parameters_check(request.query_params, self.query_parameters())

    def filter_queryset(self, queryset):
        # Filters select rows of a list; a record is fetched by its id or slug alone,
        # and its links after it (get_object: by fixed statements where they can be).
        if self.action != "list":
            self._links_to_read = queryset._prefetch_related_lookups
            return queryset.prefetch_related(None)
        return super().filter_queryset(queryset)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self.prepare_rows(page)
            if self.paginator.is_first_page():
                # A sync request (updated_since, since_version): what a copy must drop.
                self.paginator.tombstones = sync_tombstones(getattr(self, "filterset", None))
        return page

    # The record a detail response shows; its ETag carries the record's version.
    etag_record = None

    def get_object(self):
        with prepared():  # a record by its id or slug (curation/prepared.py)
            record = super().get_object()
        links = self.__dict__.pop("_links_to_read", ())
        if links:
            prefetch_links(record, links)
        self.etag_record = record
        return record

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Authorization"])
        record = self.etag_record
        if record is not None and 200 <= response.status_code < 300:
            # Every detail response (read, PATCH, review action) says which version it
            # shows: send it back in If-Match to change the record safely. Set before
            # conditional_get() tags the body, which keeps an ETag already there.
            def tag(rendered):
                rendered["ETag"] = record_etag(record, rendered.content)

            if hasattr(response, "add_post_render_callback") and not response.is_rendered:
                response.add_post_render_callback(tag)
            else:
                tag(response)
        return response

    def expected_version(self) -> str | None:
        """The version named by If-Match, refused at once (412) if it is not the
        record's; the services check it again under a row lock when they write."""
        expected = if_match_version(self.request.headers.get("If-Match"))
        record = self.etag_record
        if expected is not None and record is not None and record.version != expected:
            raise PreconditionFailed(
                "The record changed since you read it (its ETag is no longer the one in "
                "If-Match); nothing was changed. Read it again and retry."
            )
        return expected


class ReadOnlyViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class RowListMixin:
    """A JSON list page represented from ``values()`` rows by a ``RowPlan`` compiled from
    the view's serializer (curation/rowlists.py): the same body, without a model
    instance per row (issue 14). The rows are the view's queryset, filtered and paged as
    DRF would; CSV lists stay on DRF. ``row_reads`` names the columns of each property
    the serializer shows. ``rows_from_values = False`` serves the list through DRF (the
    tests compare both)."""

    rows_from_values = True
    row_reads: dict = {}

    @classmethod
    def row_plan(cls) -> RowPlan:
        plan = cls.__dict__.get("_row_plan")
        if plan is None:
            serializer = cls.serializer_class()
            plan = RowPlan(serializer, serializer.Meta.model, cls.row_reads)
            cls._row_plan = plan
        return plan

    def list(self, request, *args, **kwargs):
        if not self.rows_from_values or self.wants_csv():
            return super().list(request, *args, **kwargs)
        plan = self.row_plan()
        queryset = self.filter_queryset(self.get_queryset())
        keys = []
        cursor = getattr(self.paginator, "cursor_query_param", None)
        if cursor in request.query_params:
            # Not an order a cursor follows (TypeError): the paginator says so (400).
            with contextlib.suppress(TypeError):
                keys = [name for name, _ in self.paginator._keys(queryset)]
        rows = self.paginate_queryset(plan.values(queryset, keys))
        if rows is None:
            rows = list(plan.values(queryset))
        data = plan.represent(rows, queryset._prefetch_related_lookups, self.statement_key())
        if self.paginator is None:
            return Response(data)
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        """One record from its ``values()`` row, as ``list`` represents rows: the same
        body and ETag as DRF's ``retrieve`` (``get_object``, the serializer), without
        building the serializer's fields and a model instance for it. Through DRF where
        a permission judges objects (none of ours does) or ``rows_from_values`` is off."""
        if not self.rows_from_values or not self._objects_not_judged():
            return super().retrieve(request, *args, **kwargs)
        plan = self.row_plan()
        queryset = self.get_queryset()
        lookup = self.lookup_url_kwarg or self.lookup_field
        # What DRF's get_object_or_404 says, in the same words.
        missing = Http404(f"No {queryset.model._meta.object_name} matches the given query.")
        try:
            one = queryset.filter(**{self.lookup_field: self.kwargs[lookup]})
            with prepared():  # by its id or slug (curation/prepared.py)
                rows = list(plan.values(one, ["updated_at"])[:2])
        except (TypeError, ValueError, ValidationError):
            raise missing from None
        if len(rows) != 1:
            raise missing  # none; two cannot be, by key
        self.etag_record = _Version(version_token(rows[0]["updated_at"]))
        represented = plan.represent(rows, queryset._prefetch_related_lookups, self.statement_key())
        return Response(represented[0])

    def statement_key(self) -> tuple | None:
        """What the SQL of this view's prefetches depends on besides the rows' keys, for
        a reader who is not signed in: the view alone (its queryset's prefetches are what
        readers may see, the same on every request). None for a signed-in user, whose
        prefetches are built per request (curation/statements.py)."""
        if self.request.user.is_authenticated:
            return None
        return (type(self), "anonymous")

    def _objects_not_judged(self) -> bool:
        base = permissions.BasePermission.has_object_permission
        return all(
            type(permission).has_object_permission is base for permission in self.get_permissions()
        )


@dataclasses.dataclass(frozen=True)
class _Version:
    """What ``finalize_response`` reads of a record for its ETag."""

    version: str


# ---------------------------------------------------------------------------
# Schema: every operation documents the errors it can answer with
# ---------------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    400: "Invalid or unknown query parameter, or invalid request body; `errors` names each "
    "one (an unknown parameter with the nearest one the operation takes).",
    401: "Missing or invalid token, or an authorization scheme other than `Token <key>` "
    "or `Bearer <key>`; writes need a token.",
    403: "The token's user lacks the permission (Curators or Editors group).",
    404: "No such record (or not public: a draft, submitted or rejected one), or no such page.",
    406: "The `Accept` header asks for a media type this operation does not answer with.",
    409: "The record is not a draft or rejected record, so it cannot be edited (for a "
    "review action: its status does not allow that action).",
    412: "If-Match names an older version of the record: someone changed it since you read "
    "it. Nothing was changed; read it again (new ETag) and retry.",
    413: "The request body is larger than the API accepts (2.5 MB by default).",
    429: "Too many requests; retry after the number of seconds in `Retry-After`.",
}


# Every response of the API carries it (mecfs_kb/data_version.py).
DATA_VERSION_HEADER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "The data version of the knowledge base this response shows (0 before "
    "anything was published); /api/v1/changes/?since=<it> lists what changed after it.",
}


# The largest id a record can have (a 64-bit primary key).
ID_MAX = 2**63 - 1


def _reason_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Why the record should change: kept with the suggestion a PATCH of a "
        "published record makes, for the editor who reviews it (and in the history).",
    )


_reason_serializers: dict[type, type] = {}


def _with_edit_reason(serializer):
    """The PATCH body as the schema shows it: the record's fields and the optional
    ``reason`` that DraftWriteViewSet.edit_reason reads."""
    cls = serializer if isinstance(serializer, type) else type(serializer)
    if cls not in _reason_serializers:
        # Named as the record's serializer, so the component keeps its name
        # (PatchedFindingRequest).
        _reason_serializers[cls] = type(
            cls.__name__,
            (cls,),
            {
                "reason": _reason_field(),
                "Meta": type("Meta", (cls.Meta,), {"fields": [*cls.Meta.fields, "reason"]}),
                "__module__": cls.__module__,
            },
        )
    return _reason_serializers[cls](**getattr(serializer, "_kwargs", {}))


class ApiSchema(CSVSchemaMixin, AutoSchema):
    """A viewset may say which errors an action answers with (``error_statuses``:
    ``{action: [codes]}``) and what they mean there (``error_descriptions``), and that
    its writes take no If-Match (``conditional_writes = False``)."""

    def _error_statuses(self) -> list[int]:
        action = getattr(self.view, "action", None)
        # Any request carrying a bad token is refused with 401, reads included; any may
        # name an unknown query parameter (400) or ask for a media type not served (406).
        codes = [400, 401, 406, 429]
        declared = getattr(self.view, "error_statuses", {})
        if action in declared:
            codes += list(declared[action])
            if self.method in ("POST", "PUT", "PATCH"):
                codes.append(413)  # any body can be over the limit
            return sorted(set(codes))
        if action == "list":
            codes += [400, 404]
        elif action == "retrieve":
            codes += [404]
        elif action == "create":
            codes += [400, 403, 413]
        elif action in ("update", "partial_update") or action in REVIEW_ACTIONS:
            codes += [400, 403, 404, 409, 412, 413]
        elif action in BUNDLE_ACTIONS:
            codes += [400, 403, 404, 409, 413]
        return sorted(codes)

    def _is_detail_write(self) -> bool:
        action = getattr(self.view, "action", None)
        if not getattr(self.view, "conditional_writes", True):
            return False
        return action in ("update", "partial_update", *REVIEW_ACTIONS)

    def _error_description(self, code: int) -> str:
        described = getattr(self.view, "error_descriptions", {})
        # Per action ({action: {code: text}}) or for the whole viewset ({code: text}).
        described = described.get(getattr(self.view, "action", None), described)
        return described[code] if code in described else ERROR_DESCRIPTIONS[code]

    def _is_read(self) -> bool:
        # A viewset may name more actions that read like a detail (``read_actions``).
        reads = ("list", "retrieve", *getattr(self.view, "read_actions", ()))
        return getattr(self.view, "action", None) in reads

    def get_auth(self):
        """Each operation's security as the server applies it: a token (``Token <key>``
        or ``Bearer <key>``, curation/rest.py) always works; reads that anonymous clients
        may make also list ``{}`` (no authentication), so generated clients call them
        without a token."""
        auths = super().get_auth()
        anonymous_reads = (
            permissions.DjangoModelPermissionsOrAnonReadOnly,
            permissions.IsAuthenticatedOrReadOnly,
        )
        perms = [type(p) for p in self.view.get_permissions()]
        if (
            self.method in permissions.SAFE_METHODS
            and any(issubclass(p, anonymous_reads) for p in perms)
            and {} not in auths
        ):
            auths.append({})
        return auths

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            # Ids are numbers in bodies and filters alike: in paths too (the route's
            # pattern takes digits only; ids beyond a 64-bit integer are no record, 404).
            if parameter["schema"].get("pattern") == "^[0-9]+$":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
        return parameters

    def get_request_serializer(self):
        serializer = super().get_request_serializer()
        if getattr(self.view, "action", None) == "partial_update" and serializer is not None:
            return _with_edit_reason(serializer)
        return serializer

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_read():
            parameters.append(
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag of a copy you hold: 304 without a body if unchanged.",
                )
            )
        if self._is_detail_write():
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag from your last read of this record. If the record "
                    "was saved since, the request is refused with 412 and nothing changes. "
                    "Without it, the write applies to whatever version is current.",
                )
            )
        return parameters

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        headers["X-Data-Version"] = DATA_VERSION_HEADER
        if self._is_read() and str(status_code) == "200":
            headers["ETag"] = {
                "schema": {"type": "string"},
                "description": "Changes whenever the response body does (for a list: "
                'also with the data version, `"d<data version>-…"`). For one record, '
                "send it back in If-Match when you change the record.",
            }
        elif self._is_detail_write() and str(status_code) == "200":
            headers["ETag"] = {
                "schema": {"type": "string"},
                "description": "The record's new version: send it in If-Match next time.",
            }
        if str(status_code) in getattr(self.view, "location_statuses", ("202",)):
            headers["Location"] = {
                "schema": {"type": "string"},
                "description": "The suggestion's own resource: /api/v1/suggestions/<id>/.",
            }
        elif self._is_draft_create() and str(status_code) == "201":
            headers["ETag"] = {
                "schema": {"type": "string"},
                "description": "The new draft's version: send it in If-Match to edit it.",
            }
            headers["Location"] = {
                "schema": {"type": "string"},
                "description": "The new record's own resource (/api/v1/<resource>/<id>/).",
            }
        return headers

    def _is_draft_create(self) -> bool:
        return isinstance(self.view, DraftWriteViewSet) and self.view.action == "create"

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not hasattr(self.view, "action"):
            return responses
        if self._is_read():
            responses["304"] = {"description": "Not modified: the If-None-Match ETag matches."}
        if getattr(self.view, "action", None) in ("update", "partial_update"):
            suggested = OpenApiResponse(
                SuggestionDetailSerializer,
                description="The record is published: the change was kept as a suggestion "
                "for another editor to accept, and the record is unchanged. The body is the "
                "suggestion, as `Location` (/api/v1/suggestions/<id>/) shows it.",
            )
            responses["202"] = self._get_response_for_code(suggested, "202", direction=direction)
        for code in self._error_statuses():
            response = OpenApiResponse(ErrorSerializer, description=self._error_description(code))
            responses.setdefault(
                str(code), self._get_response_for_code(response, str(code), direction=direction)
            )
        return responses


class DraftWriteViewSet(
    ApiViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Reads, plus POST (a new draft) and PATCH (edit a draft or rejected record).
    No PUT and no DELETE: deletes and status changes belong to editors' review."""

    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_object(self):
        record = super().get_object()
        if self.action in ("update", "partial_update"):
            # Say 412, then 409, before judging the body: no point fixing a body that
            # cannot apply.
            self.expected_version()
            record_check_can_edit(record=record, user=self.request.user)
        return record

    def perform_create(self, serializer):
        serializer.instance = record_create(
            model=serializer.Meta.model, fields=serializer.validated_data, user=self.request.user
        )
        self.created_as_read(serializer)

    def get_success_headers(self, data):
        """``Location`` of the new record's own resource (DRF's default would copy a
        ``url`` field of the body, which for a source is the document's web address)."""
        record = self.etag_record
        if record is None:
            return {}
        return {"Location": reverse(f"api:{self.basename}-detail", args=[record.pk])}

    def created_as_read(self, serializer) -> None:
        """The new record, shown as a read shows it: its parents are the records the
        serializer read to judge the body (``record_create`` keeps them on it); of its
        links, those the body did not give are empty (a row just inserted has none), the
        others are prefetched as the view's queryset prefetches them. Tagged like a read
        of it (``finalize_response``), to be edited with If-Match at once; a viewset
        with its own ``perform_create`` calls this after its ``record_create``."""
        record = self.etag_record = serializer.instance
        given = serializer.validated_data
        to_read = []
        for lookup in self.get_queryset()._prefetch_related_lookups:
            name = getattr(lookup, "prefetch_through", lookup)
            field = next(
                (f for f in record._meta.many_to_many if f.name == name and not given.get(name)),
                None,
            )
            if field is None:
                to_read.append(lookup)
            else:
                # Empty and read, as a prefetch leaves it: a queryset not yet read would
                # be built and compiled for every field that lists it (issue 14: 0.6 ms).
                keep_prefetched(record, name, [])
        if to_read:
            prefetch_links(record, to_read)

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        suggestion = getattr(self, "suggestion", None)
        if suggestion is None:
            return response
        # A published record is not changed: the change waits for another editor, as a
        # suggestion, answered as GET /api/v1/suggestions/<id>/ would show it.
        self.etag_record = None
        return suggestion_response(suggestion.pk, self.get_serializer_context(), status=202)

    def edit_reason(self) -> str:
        """Optional "reason" in the body: why a published record should change. Read by
        the field the schema documents it with, so a reason that is not text is a 400."""
        if "reason" not in self.request.data:
            return ""
        try:
            return _reason_field().run_validation(self.request.data["reason"])
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"reason": exc.detail}) from None

    def perform_update(self, serializer):
        result = record_edit(
            record=serializer.instance,
            fields=serializer.validated_data,
            user=self.request.user,
            expected_version=self.expected_version(),
            reason=self.edit_reason(),
        )
        self.suggestion = result.suggestion
        # Answer with what a read shows now, related records included, in a fixed
        # number of queries: read again where the edit changed a relation, else the
        # saved row with the parents and links this request read (as_read_after).
        model = type(result.record)
        if result.suggestion is None and not any(
            model._meta.get_field(name).is_relation for name in result.changed
        ):
            record = as_read_after(result.record, serializer.instance)
        else:
            record = self.get_queryset().get(pk=result.record.pk)
        serializer.instance = self.etag_record = record


def as_read_after(saved: models.Model, read: models.Model) -> models.Model:
    """``saved``, the row a service has just written (every column, as locked and saved),
    with the related records and prefetched links ``read`` holds (the same record as this
    request read it before the write), where the write left them as they were: a parent
    is kept while its key is unchanged; links are kept whole, so a caller passes only a
    write that changed none (a review transition, an edit of plain fields). The response
    then shows what a second read would, without it."""
    if saved.pk != read.pk or type(saved) is not type(read):
        raise ValueError("as_read_after: not the same record")
    for field in saved._meta.concrete_fields:
        if (
            field.many_to_one
            and field.is_cached(read)
            and getattr(read, field.attname) == getattr(saved, field.attname)
        ):
            field.set_cached_value(saved, field.get_cached_value(read))
    prefetched = getattr(read, "_prefetched_objects_cache", None)
    if prefetched is not None:
        saved._prefetched_objects_cache = dict(prefetched)
    return saved


def suggestion_read(pk: int) -> Suggestion:
    """One suggestion as the API shows it, with its field-by-field difference."""
    suggestion = Suggestion.objects.for_display().get(pk=pk)
    suggestion.diff_rows = suggestion_diff(suggestion)
    return suggestion


def suggestion_response(pk: int, context: dict, *, status: int) -> Response:
    """A suggestion's full representation, with ``Location`` naming its resource."""
    suggestion = suggestion_read(pk)
    return Response(
        SuggestionDetailSerializer(suggestion, context=context).data,
        status=status,
        headers={"Location": reverse("api:suggestion-detail", args=[pk])},
    )


# ---------------------------------------------------------------------------
# Review actions: the same service, rules and messages as the admin's actions
# ---------------------------------------------------------------------------

REVIEW_ACTIONS = ("submit", "reopen", "publish", "reject", "retract")


class ReviewNoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why. Required to reject or retract; optional to submit or publish. "
        "Kept in the record's history.",
    )


def _review_action(name: str, summary: str):
    def review(self, request, *args, **kwargs):
        record = self.get_object()
        body = ReviewNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = TRANSITIONS[name](
            record=record,
            user=request.user,
            note=body.validated_data["note"],
            expected_version=self.expected_version(),
        )
        # A transition changes the record's review fields only, never its parents or
        # links: the saved row with those this request read is what a read shows now.
        self.etag_record = as_read_after(saved, record)
        return Response(self.get_serializer(self.etag_record).data)

    # Named before @action reads the name: the router maps POST to the method by it.
    review.__name__ = review.__qualname__ = name
    routed = action(detail=True, methods=["post"], url_path=name, url_name=name)(review)
    return extend_schema(summary=summary, request=ReviewNoteSerializer)(routed)


class ReviewActionsMixin:
    """``POST …/<id>/submit/``, ``publish/``, ``reject/``, ``retract/`` with
    ``{"note": "…"}``: curation/services.py decides (403 for a role that may not or for
    one's own submission, 400 without a required note, 409 from the wrong status, 412
    for a stale If-Match)."""

    submit = _review_action("submit", "Submit a draft or rejected record for review")
    reopen = _review_action("reopen", "Reopen a rejected record as a draft, to fix and submit")
    publish = _review_action(
        "publish", "Publish a submitted record (editors; not one's own submission)"
    )
    reject = _review_action("reject", "Reject a submitted record, with a note (editors)")
    retract = _review_action("retract", "Retract a published record, with a note (editors)")


# ---------------------------------------------------------------------------------------
# A record with the claims resting on it (curation/bundles.py): a paper and its claims
# ---------------------------------------------------------------------------------------

BUNDLE_ACTIONS = ("submit_with_claims", "publish_with_claims")


class ClaimRefSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="The claim's resource: `finding`, `evidence`, …")
    id = serializers.IntegerField()

    def validate(self, attrs):
        model = api_resource_model(attrs["kind"])
        if model is None:
            raise serializers.ValidationError({"kind": [f"“{attrs['kind']}” is not a kind."]})
        return model(pk=attrs["id"])


class BundleSubmitSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BundlePublishSerializer(serializers.Serializer):
    claims = ClaimRefSerializer(
        many=True, help_text="The submitted claims to publish with the record."
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Kept in each one's history."
    )
    reject_note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="With it, the submitted claims not listed are rejected with this note; "
        "without it they stay submitted.",
    )


class BundleResultSerializer(serializers.Serializer):
    published = ClaimRefSerializer(many=True)
    rejected = ClaimRefSerializer(many=True)
    waiting = ClaimRefSerializer(many=True)
    submitted = ClaimRefSerializer(many=True)
    left_as_drafts = ClaimRefSerializer(
        many=True,
        help_text="Draft claims written by other curators, left for them to submit.",
    )


def _refs(records) -> list[dict]:
    return [{"kind": api_kind(type(r)), "id": r.pk} for r in records]


class BundleActionsMixin:
    """``POST …/<id>/submit-with-claims/`` and ``publish-with-claims/``: a record and
    the claims resting on it, reviewed together (curation/bundles.py decides)."""

    @extend_schema(
        summary="Submit a record with its draft and rejected claims, for review together",
        request=BundleSubmitSerializer,
        responses=BundleResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="submit-with-claims")
    def submit_with_claims(self, request, *args, **kwargs):
        body = BundleSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = bundle_submit(
            record=self.get_object(), user=request.user, note=body.validated_data["note"]
        )
        return Response(
            {
                "submitted": _refs(result.submitted),
                "published": [],
                "rejected": [],
                "waiting": [],
                "left_as_drafts": _refs(result.left),
            }
        )

    @extend_schema(
        summary="Publish a record with the chosen submitted claims, in one data version "
        "(editors; not one's own work)",
        request=BundlePublishSerializer,
        responses=BundleResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="publish-with-claims")
    def publish_with_claims(self, request, *args, **kwargs):
        body = BundlePublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = bundle_publish(
            record=self.get_object(),
            user=request.user,
            claims=body.validated_data["claims"],
            note=body.validated_data["note"],
            reject_note=body.validated_data["reject_note"],
        )
        return Response(
            {
                "submitted": [],
                "published": _refs(review.published),
                "rejected": _refs(review.rejected),
                "waiting": _refs(review.waiting),
                "left_as_drafts": [],
            }
        )
