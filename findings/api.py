"""API viewsets of the findings app: abnormalities, lab tests, sources, findings."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view

from curation.rest import KeysetPagination
from curation.services import record_create
from curation.viewsets import (
    BundleActionsMixin,
    DraftWriteViewSet,
    ReadOnlyViewSet,
    ReviewActionsMixin,
    RowListMixin,
)
from findings.citations import (
    CITATION_FORMAT_PARAMETER,
    CITATION_RESPONSES,
    CitationFormatsMixin,
)
from findings.duplicates import api_duplicate_check
from findings.filters import AbnormalityFilter, FindingFilter, LabTestFilter, SourceFilter
from findings.lookup.api_views import SourceLookupActionMixin
from findings.models import Abnormality, Finding, LabTest, Source
from findings.serializers import (
    AbnormalitySerializer,
    FindingSerializer,
    LabTestSerializer,
    SourceSerializer,
)

SLUG_REGEX = "[-a-zA-Z0-9_]+"

# A claim list searched with ``q`` (statement, plain summary or quote contains) counts
# its rows up to a bound (curation/rest.py ``Pagination.count_cap``): a common word is in
# a third of the claims, and their exact count read every one of them.
CLAIM_BOUNDED_COUNT = ("q",)

# The columns each model property a claim's representation shows reads, for a list
# represented from values() rows (curation/rowlists.py): its citation's notice, and its
# own retraction.
CLAIM_ROW_READS = {
    Source: {
        "notice_held": ("retracted", "notice_kind", "notice_reviewed_at"),
        "notice_link": ("notice_url", "notice_doi"),
    },
    Finding: {"retraction": ("status", "reviewed_at", "review_note")},
}
ID_REGEX = "[0-9]+"


class AbnormalityViewSet(ReadOnlyViewSet):
    """Immune abnormalities reported in ME/CFS, with the lab tests that can show them.
    Anonymous clients see published records only."""

    serializer_class = AbnormalitySerializer
    filterset_class = AbnormalityFilter
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX

    def get_queryset(self):
        user = self.request.user
        return Abnormality.objects.visible_to(user).prefetch_related(
            Prefetch("lab_tests", queryset=LabTest.objects.visible_to(user))
        )


class LabTestViewSet(ReadOnlyViewSet):
    """How abnormalities are measured, and where the test is available."""

    serializer_class = LabTestSerializer
    filterset_class = LabTestFilter
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX

    def get_queryset(self):
        user = self.request.user
        return LabTest.objects.visible_to(user).prefetch_related(
            Prefetch("abnormalities", queryset=Abnormality.objects.visible_to(user))
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[CITATION_FORMAT_PARAMETER],
        responses={(200, "application/json"): SourceSerializer, **CITATION_RESPONSES},
    ),
    retrieve=extend_schema(
        parameters=[CITATION_FORMAT_PARAMETER],
        responses={(200, "application/json"): SourceSerializer, **CITATION_RESPONSES},
    ),
)
class SourceViewSet(
    SourceLookupActionMixin,
    CitationFormatsMixin,
    BundleActionsMixin,
    ReviewActionsMixin,
    DraftWriteViewSet,
):
    """Citable documents. Curators and editors (token) create drafts and edit draft or
    rejected sources; a DOI or PMID already used by another source is refused (400), a
    PMCID or a near-identical title of the same year is a 409 `possible_duplicate`
    unless the body says `"different_document": true` with a `different_reason`.
    `?format=bibtex` or `?format=ris` answers the (filtered) list or one source as
    citations. ``lookup/`` fills a new source from its DOI, PMID, PMCID or NCT number
    (saves nothing)."""

    serializer_class = SourceSerializer
    filterset_class = SourceFilter
    lookup_value_regex = ID_REGEX
    error_statuses = {"create": [400, 403, 409], **SourceLookupActionMixin.error_statuses}
    error_descriptions = {
        409: "`possible_duplicate`: a PMCID or a near-identical title (same year) matches "
        "another source, named in `errors`; send `different_document` and "
        "`different_reason` if it is a different document. For an edit or review action "
        "also: the record's status does not allow it.",
        # The lookup action's own (per action: curation/viewsets.py ApiSchema).
        **SourceLookupActionMixin.error_descriptions,
    }

    def get_queryset(self):
        return Source.objects.visible_to(self.request.user)

    def perform_create(self, serializer):
        reason = api_duplicate_check(data=serializer.validated_data, instance=None)
        serializer.instance = record_create(
            model=Source, fields=serializer.validated_data, user=self.request.user, reason=reason
        )
        self.created_as_read(serializer)

    def perform_update(self, serializer):
        self.duplicate_reason = api_duplicate_check(
            data=serializer.validated_data, instance=serializer.instance
        )
        super().perform_update(serializer)

    def edit_reason(self) -> str:
        given = super().edit_reason().strip()
        note = getattr(self, "duplicate_reason", "")
        return f"{given} ({note})" if given and note else given or note


class FindingViewSet(RowListMixin, ReviewActionsMixin, DraftWriteViewSet):
    """Sourced claims that an abnormality is (or is not) seen in ME/CFS, or about how it
    is tested. Curators and editors (token) create drafts and edit draft or rejected
    findings; a finding names an abnormality, a lab test, or both.

    A finding an editor retracted still answers by its id, with `status: retracted` and
    its `retraction` (when and why); lists leave it out unless asked (`status=retracted`)."""

    serializer_class = FindingSerializer
    filterset_class = FindingFilter
    row_reads = CLAIM_ROW_READS
    lookup_value_regex = ID_REGEX
    # Keyset paging (`cursor`) beside page numbers: claims are the long lists.
    pagination_class = KeysetPagination
    bounded_count_parameters = CLAIM_BOUNDED_COUNT

    def get_queryset(self):
        user = self.request.user
        return (
            # Retracted findings too: read by id they answer as retracted, with the reason;
            # lists leave them out unless asked (FindingFilter's `status`).
            # Parents tested row by row: a page is read from the order index.
            Finding.objects.listed_visible_to(user, retracted=True)
            .select_related("abnormality", "lab_test", "source")
            .prefetch_related(
                # Row by row, from the page's links (curation/models.py linked_visible_to).
                Prefetch(
                    "contradicted_by", queryset=Finding.objects.linked_visible_to(user).only("pk")
                )
            )
        )
