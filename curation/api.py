"""The API's suggested revisions (``/api/v1/suggestions/``): changes to published
records, waiting for another editor (curation/revisions.py decides everything); and
what each data version changed (``/api/v1/changes/``, curation/versions.py)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.decorators import action

from curation.filters import DataChangeFilter, SuggestionFilter
from curation.models import DataChange, Suggestion
from curation.resources import api_kinds, api_resource, api_resource_model
from curation.revisions import (
    RecordNotPublished,
    suggestion_accept,
    suggestion_check_can_propose,
    suggestion_diff,
    suggestion_propose,
    suggestion_reject,
    suggestion_withdraw,
)
from curation.serializers import (
    DataChangeSerializer,
    SuggestionCreateSerializer,
    SuggestionDetailSerializer,
    SuggestionSerializer,
)
from curation.versions import data_changes_link
from curation.viewsets import ApiViewSetMixin, ReviewNoteSerializer, suggestion_response

ID_REGEX = "[0-9]+"


class CanReadSuggestions(permissions.BasePermission):
    """Curators and editors (``view_suggestion``, from their group). Which suggestions
    each one sees is ``Suggestion.objects.visible_to``; what each may do with one, the
    review service decides."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("curation.view_suggestion"))


def _suggestion_action(name: str, service, summary: str, *, with_note: bool):
    def review(self, request, *args, **kwargs):
        suggestion = self.get_object()
        kwargs = {"suggestion": suggestion, "user": request.user}
        if with_note:
            body = ReviewNoteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            kwargs["note"] = body.validated_data["note"]
        service(**kwargs)
        return suggestion_response(suggestion.pk, self.get_serializer_context(), status=200)

    # Named before @action reads the name: the router maps POST to the method by it.
    review.__name__ = review.__qualname__ = name
    routed = action(detail=True, methods=["post"], url_path=name, url_name=name)(review)
    return extend_schema(
        summary=summary,
        request=ReviewNoteSerializer if with_note else None,
        responses=SuggestionDetailSerializer,
    )(routed)


class SuggestionViewSet(ApiViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Suggested changes to published records. A curator's token lists and reads its
    own suggestions (with the editor's note once reviewed); an editor's, every one.
    `POST` suggests a change (as a PATCH of a published record does); editors accept or
    reject one (`accept/`, `reject/` with a note), never their own; its author may
    withdraw it (`withdraw/`)."""

    http_method_names = ["get", "post", "head", "options"]
    permission_classes = [CanReadSuggestions]
    filterset_class = SuggestionFilter
    lookup_value_regex = ID_REGEX

    # The schema (curation/viewsets.py ApiSchema): what each action can answer.
    conditional_writes = False
    location_statuses = ("201",)
    error_statuses = {
        "list": [400, 403, 404],
        "retrieve": [403, 404],
        "create": [400, 403, 409],
        "accept": [400, 403, 404, 409],
        "reject": [400, 403, 404, 409],
        "withdraw": [400, 403, 404, 409],
    }
    error_descriptions = {
        403: "The token's user may not do this: not a curator or editor; accepting or "
        "rejecting needs an editor of that kind of record, and never the suggestion's "
        "author; only its author withdraws it.",
        404: "No such suggestion among those you may see (curators see their own), or no "
        "such page.",
        409: "For a new suggestion: the record is not published (`not_published`: PATCH the "
        "draft instead) or is under review or retracted (`not_editable`). For a review "
        "action: the suggestion is no longer waiting (`invalid_transition`), or the record "
        "changed since it was made (`stale`: it is now marked stale).",
    }

    def get_queryset(self):
        return Suggestion.objects.visible_to(self.request.user).for_display()

    def get_serializer_class(self):
        if self.action == "list":
            return SuggestionSerializer
        if self.action == "create":
            return SuggestionCreateSerializer
        return SuggestionDetailSerializer

    def get_object(self):
        suggestion = super().get_object()
        # A suggestion has no version of its own: its ETag is its body's (conditional_get).
        self.etag_record = None
        if self.action == "retrieve":
            suggestion.diff_rows = suggestion_diff(suggestion)
        return suggestion

    @extend_schema(
        summary="Suggest a change to a published record (curators and editors)",
        request=SuggestionCreateSerializer,
        responses={201: SuggestionDetailSerializer},
    )
    def create(self, request, *args, **kwargs):
        body = SuggestionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kind = body.validated_data["kind"]
        if kind not in api_kinds(writable=True):
            raise exceptions.ValidationError(
                {"kind": [f"Suggestions are taken for {', '.join(api_kinds(writable=True))}."]}
            )
        model = api_resource_model(kind)
        record_id = body.validated_data["record"]
        record = model.objects.visible_to(request.user).filter(pk=record_id).first()
        if record is None:
            raise exceptions.ValidationError(
                {"record": [f"There is no {model._meta.verbose_name} with id {record_id}."]}
            )
        # 403, then 409, before judging the values: no point fixing values that cannot apply.
        try:
            suggestion_check_can_propose(record=record, user=request.user)
        except RecordNotPublished as exc:
            raise _patch_instead(exc, kind) from None
        fields = self._values(kind, record, body.validated_data["changes"])
        try:
            suggestion = suggestion_propose(
                record=record,
                fields=fields,
                user=request.user,
                reason=body.validated_data["reason"],
            )
        except RecordNotPublished as exc:
            raise _patch_instead(exc, kind) from None
        return suggestion_response(suggestion.pk, self.get_serializer_context(), status=201)

    def _values(self, kind: str, record, changes: dict) -> dict:
        """``changes`` read by the record's own resource, as a PATCH of it would read
        them (slugs and ids turned into records, values checked): the same rules."""
        serializer = api_resource(kind).serializer_class(
            record, data=changes, partial=True, context=self.get_serializer_context()
        )
        valid = serializer.is_valid()
        errors = dict(serializer.errors) if not valid else {}
        writable = {name for name, field in serializer.fields.items() if not field.read_only}
        for name in changes:
            if name not in writable and name not in errors:
                errors[name] = [f"“{name}” cannot be changed through the API."]
        if errors:
            raise exceptions.ValidationError({"changes": errors})
        return serializer.validated_data

    accept = _suggestion_action(
        "accept",
        suggestion_accept,
        "Accept a suggestion: the record changes for readers (editors; not one's own)",
        with_note=True,
    )
    reject = _suggestion_action(
        "reject",
        suggestion_reject,
        "Reject a suggestion, with a note its author reads (editors; not one's own)",
        with_note=True,
    )
    withdraw = _suggestion_action(
        "withdraw", suggestion_withdraw, "Withdraw one's own suggestion", with_note=False
    )


def _patch_instead(exc: RecordNotPublished, kind: str) -> RecordNotPublished:
    """The service's refusal, saying how the API changes a draft."""
    url = reverse(f"api:{kind}-detail", args=[exc.record.pk])
    return RecordNotPublished(exc.record, how=f"PATCH {url} to change the draft itself")


class DataChangeViewSet(ApiViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """What each data version added, revised (which fields) and retracted (and why),
    newest version first. `?since=N` lists only the changes made after data version N:
    keep the `data_version` (or `X-Data-Version`) of your last read and ask for what
    changed since. Read-only; the same for every client."""

    # Public to everyone alike (no drafts here); a write is 405, not a permission check.
    http_method_names = ["get", "head", "options"]
    permission_classes = [permissions.AllowAny]
    serializer_class = DataChangeSerializer
    filterset_class = DataChangeFilter
    queryset = DataChange.objects.select_related("version", "content_type").order_by(
        "-version__number", "pk"
    )

    def prepare_rows(self, rows):
        data_changes_link(rows)
