"""Where readers see therapies, their evidence, regulatory statuses and harms, for previews
(curation/preview.py): each is rendered by the readers' own view and template.

A therapy has its page. An item of evidence is read on the page of its therapy and
abnormality (a matrix cell), or, when it names no abnormality, on its therapy's page
under "ME/CFS in general"; a regulatory status on its therapy's page under "Where it
can be had", a harm under "Harms and risks". Their previews show that page with the item
placed where readers will find it, marked.
"""

from __future__ import annotations

from curation.preview import (
    Preview,
    PreviewPageMixin,
    RecordPreview,
    preview_nowhere,
    preview_register,
)
from treatments.models import CertaintyOverride, Harm, RegulatoryStatus, Therapy, TherapyEvidence
from treatments.views import (
    PairEvidenceView,
    TherapyDetailView,
    _evidence_with_contradictions,
    by_jurisdiction,
    evidence_url,
)


class TherapyPreviewView(PreviewPageMixin, TherapyDetailView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The page lists the sources of what it shows: the previewed item's too.
        claim = self.claim
        if claim is not None and all(s.pk != claim.source_id for s in context["sources"]):
            context["sources"] = [*context["sources"], claim.source]
        # A previewed status is placed in the list: grouped by jurisdiction again.
        context["jurisdictions"] = by_jurisdiction(context["regulatory_statuses"])
        return context


class PairPreviewView(PreviewPageMixin, PairEvidenceView):
    def get_pair(self, **kwargs):
        return self.claim.therapy, self.claim.abnormality


@preview_register(Therapy)
class TherapyPreview(RecordPreview):
    def render(self, request, record, preview: Preview):
        return TherapyPreviewView.as_view(shown=record, preview=preview)(request)


@preview_register(TherapyEvidence)
class TherapyEvidencePreview(RecordPreview):
    def get_queryset(self, queryset):
        # What the pages read with each item: its source, abnormality, and the published
        # items that contradict it.
        return _evidence_with_contradictions(queryset).select_related("therapy")

    def public_url(self, record):
        # On the page that lists it (of its pair's list, or its therapy's or source's).
        return evidence_url(record)

    def render(self, request, record, preview: Preview):
        if record.abnormality_id:
            view = PairPreviewView.as_view(claim=record, into="evidence", preview=preview)
        else:
            view = TherapyPreviewView.as_view(
                shown=record.therapy, claim=record, into="general_evidence", preview=preview
            )
        return view(request)


@preview_register(RegulatoryStatus)
class RegulatoryStatusPreview(RecordPreview):
    def get_queryset(self, queryset):
        return queryset.select_related("therapy", "source")

    def public_url(self, record):
        return f"{record.therapy.get_absolute_url()}#access-heading"

    def render(self, request, record, preview: Preview):
        view = TherapyPreviewView.as_view(
            shown=record.therapy, claim=record, into="regulatory_statuses", preview=preview
        )
        return view(request)


@preview_register(CertaintyOverride)
class CertaintyOverridePreview(RecordPreview):
    """Reader pages do not show certainty ratings yet (issue 12 puts them on the pair
    page in a later step): a published override is read through /api/v1/pairs/ and a
    therapy's ``rating`` in the API, so its preview says so."""

    def public_url(self, record):
        return None

    def render(self, request, record, preview: Preview):
        return preview_nowhere(
            request,
            preview,
            "Certainty ratings are not shown on the reader pages yet. Once published, this "
            "override is shown beside the computed rating in the API (/api/v1/pairs/ and "
            "each therapy's rating).",
        )


@preview_register(Harm)
class HarmPreview(RecordPreview):
    def get_queryset(self, queryset):
        return queryset.select_related("therapy", "source")

    def public_url(self, record):
        return f"{record.therapy.get_absolute_url()}#harm-{record.pk}"

    def render(self, request, record, preview: Preview):
        view = TherapyPreviewView.as_view(
            shown=record.therapy, claim=record, into="harms", preview=preview
        )
        return view(request)
