"""The API's lookup action: ``POST /api/v1/sources/lookup/`` with ``{"id": …}``, for
curators' and editors' tokens. (POST rather than GET: each call asks outside services,
under their rate limits, and must not be cached, prefetched or repeated by a crawler.)
It answers with what the lookup found, as the fields of a new source, and saves
nothing: the client shows it to its curator, who POSTs the checked record to
``/api/v1/sources/`` as a draft."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from findings.lookup import LookupFailed, source_lookup
from findings.lookup.present import existing_sources, record_json
from findings.models import NoticeKind


class CanAddSources(permissions.BasePermission):
    """Curators and editors (the ``add_source`` permission), by token or session."""

    message = "Only curators and editors can look sources up."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated()
        return user.has_perm("findings.add_source")


class LookupNotFound(exceptions.APIException):
    status_code = 404
    default_code = "not_found"


class LookupUnavailable(exceptions.APIException):
    status_code = 502
    default_code = "lookup_unavailable"


class LookupNotConfigured(exceptions.APIException):
    status_code = 503
    default_code = "lookup_not_configured"


class LookupRequestSerializer(serializers.Serializer):
    id = serializers.CharField(
        max_length=2000,
        help_text="A DOI, PMID, PMCID or ClinicalTrials.gov number, or a doi.org, PubMed, "
        "PMC or clinicaltrials.gov link to one.",
    )


IDENTIFIER_KINDS = [
    ("doi", "DOI"),
    ("pmid", "PMID"),
    ("pmcid", "PMCID"),
    ("nct_id", "ClinicalTrials.gov number"),
]


class IdentifierSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=IDENTIFIER_KINDS, help_text="The source field the identifier fills."
    )
    value = serializers.CharField()


class NoticeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NoticeKind.choices)
    label = serializers.CharField()
    doi = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    date = serializers.DateField(allow_null=True)
    reported_by = serializers.CharField(
        allow_blank=True, help_text="the publisher, Retraction Watch, or PubMed"
    )


class ExistingSourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField(
        help_text="Why it looks like the same document: the same identifier, or a "
        "near-identical title of the same year."
    )


class LookupResultSerializer(serializers.Serializer):
    identifier = IdentifierSerializer()
    record = serializers.DictField(
        help_text="The fields found, named as a source's fields (key, kind, title, authors, "
        "container, year, published_on, doi, pmid, pmcid, nct_id, publication_type, "
        "abstract, url, accessed_on, retracted, retraction_note, notice_kind, notice_doi, "
        "notice_url, notice_date, notices_checked_on): only those found are present. Nothing "
        "is saved."
    )
    filled_from = serializers.DictField(
        child=serializers.CharField(), help_text="For each field, the service it came from."
    )
    notices = NoticeSerializer(
        many=True, help_text="Publishers' notices found, most serious first."
    )
    notices_checked = serializers.BooleanField(
        help_text="Whether Crossref's record of retractions and corrections was read."
    )
    complete = serializers.BooleanField(
        help_text="False when a service failed after the record was found: `problems` says "
        "what was not filled or checked."
    )
    problems = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    existing = ExistingSourceSerializer(
        many=True,
        help_text="Sources that may be this document (the same DOI, PMID, PMCID or NCT "
        "number, or a near-identical title of the same year).",
    )


LOOKUP_ERRORS = {
    400: "`id` is missing or is not a DOI, PMID, PMCID or ClinicalTrials.gov number.",
    403: "The token's user is not a curator or editor.",
    404: "No service knows the identifier.",
    502: "The services did not answer within 5 seconds, answered with an error, or with "
    "something unreadable; `detail` names each. Try again later or enter the source by hand.",
    503: "Lookups are not configured on this server (LOOKUP_CONTACT_EMAIL).",
}


class SourceLookupActionMixin:
    """For ``SourceViewSet``."""

    error_statuses = {"lookup": [400, 403, 404, 502, 503]}
    error_descriptions = {"lookup": LOOKUP_ERRORS}

    @extend_schema(
        summary="Look a source up by DOI, PMID, PMCID or NCT number (curators; saves nothing)",
        request=LookupRequestSerializer,
        responses=LookupResultSerializer,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="lookup",
        permission_classes=[CanAddSources],
        filter_backends=[],
        pagination_class=None,
    )
    def lookup(self, request, *args, **kwargs):
        body = LookupRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = source_lookup(body.validated_data["id"])
        except LookupFailed as exc:
            if exc.code == "invalid":
                raise exceptions.ValidationError({"id": [exc.message]}) from None
            if exc.code == "not_found":
                raise LookupNotFound(exc.message) from None
            if exc.code == "not_configured":
                raise LookupNotConfigured(exc.message) from None
            raise LookupUnavailable(exc.message) from None
        return Response(record_json(result, existing=existing_sources(result.fields)))
