"""Where readers see sources, abnormalities, findings and lab tests, for previews
(curation/preview.py): each is rendered by the readers' own view and template.

A source and an abnormality have pages of their own. A finding is read on its
abnormality's page (or, when it is only about a lab test, on its source's page), a lab
test on the pages of the abnormalities it measures: their previews show that page with
the record placed where readers will find it, marked.
"""

from __future__ import annotations

from curation.preview import (
    Preview,
    PreviewPageMixin,
    RecordPreview,
    preview_nowhere,
    preview_register,
)
from findings.models import Abnormality, Direction, Finding, GlossaryTerm, LabTest, Source
from findings.views import (
    AbnormalityDetailView,
    GlossaryView,
    SourceDetailView,
    finding_url,
)


class AbnormalityPreviewView(PreviewPageMixin, AbnormalityDetailView):
    pass


class SourcePreviewView(PreviewPageMixin, SourceDetailView):
    pass


@preview_register(Abnormality)
class AbnormalityPreview(RecordPreview):
    def render(self, request, record, preview: Preview):
        return AbnormalityPreviewView.as_view(shown=record, preview=preview)(request)


@preview_register(Source)
class SourcePreview(RecordPreview):
    def render(self, request, record, preview: Preview):
        return SourcePreviewView.as_view(shown=record, preview=preview)(request)


# The abnormality page's list for each direction (findings/views.py).
FINDING_LISTS = {
    Direction.SUPPORTS: "findings_for",
    Direction.DOES_NOT_SUPPORT: "findings_against",
}


@preview_register(Finding)
class FindingPreview(RecordPreview):
    def get_queryset(self, queryset):
        return queryset.select_related("abnormality", "source", "lab_test")

    def public_url(self, record):
        # On the page of its abnormality's list that holds it.
        return finding_url(record)

    def render(self, request, record, preview: Preview):
        if record.abnormality_id:
            view = AbnormalityPreviewView.as_view(
                shown=record.abnormality,
                claim=record,
                into=FINDING_LISTS.get(record.direction, "findings_other"),
                preview=preview,
            )
        else:
            view = SourcePreviewView.as_view(
                shown=record.source, claim=record, into="findings", preview=preview
            )
        return view(request)


def _abnormalities_shown(lab_test: LabTest) -> list[Abnormality]:
    """The abnormalities whose pages show ``lab_test``: published ones first, by name (a
    suggestion's changed links are published ones only, as readers see them)."""
    return sorted(lab_test.abnormalities.all(), key=lambda a: (not a.is_published, a.name))


@preview_register(LabTest)
class LabTestPreview(RecordPreview):
    def get_queryset(self, queryset):
        return queryset.prefetch_related("abnormalities")

    def public_url(self, record):
        published = [a for a in _abnormalities_shown(record) if a.is_published]
        return f"{published[0].get_absolute_url()}#tests-heading" if published else None

    def render(self, request, record, preview: Preview):
        shown = _abnormalities_shown(record)
        if not shown:
            return preview_nowhere(
                request,
                preview,
                "Readers see a lab test on the pages of the abnormalities it measures, and "
                "this one names none yet: add them on its page in the admin.",
            )
        view = AbnormalityPreviewView.as_view(
            shown=shown[0], claim=record, into="lab_tests", preview=preview
        )
        return view(request)


class GlossaryPreviewView(PreviewPageMixin, GlossaryView):
    pass


@preview_register(GlossaryTerm)
class GlossaryTermPreview(RecordPreview):
    """A term is read on the glossary page, in its place by name."""

    def get_queryset(self, queryset):
        return queryset.select_related("source")

    def render(self, request, record, preview: Preview):
        return GlossaryPreviewView.as_view(claim=record, into="terms", preview=preview)(request)
