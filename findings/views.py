"""Readers' pages for abnormalities and sources.

``findings`` never imports ``treatments``. Where these pages show therapies they read
them through the reverse relations ``treatments`` adds to Abnormality and Source
(``therapy_evidence``, ``regulatory_statuses``, ``harms``), whose managers carry treatments'
own ``.published()`` rules: the visibility logic is still written once.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Lower
from django.shortcuts import render
from django.urls import reverse
from django.views.generic import DetailView, TemplateView

from curation.pages import RetractedPageMixin
from curation.versions import data_version_of
from findings.citations import (
    CITATION_FORMATS,
    citation_response,
    source_citation,
    sources_bibtex,
    sources_ris,
)
from findings.filters import AbnormalityFilter, SourceFilter
from findings.models import (
    LEVEL_SHORT,
    Abnormality,
    Direction,
    Finding,
    GlossaryTerm,
    LabTest,
    Level,
    Source,
)
from findings.pages import (
    EVIDENCE_EXPORT_FIELDS,
    EXPORT_FORMATS,
    DetailDownloadMixin,
    InputError,
    ReaderListView,
    claim_row,
    recently_retracted,
)


def _finding_count(direction: str):
    counted = (
        Finding.objects.counted()
        .filter(abnormality=OuterRef("pk"), direction=direction)
        .order_by()
        .values("abnormality")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class AbnormalityListView(ReaderListView):
    filterset_class = AbnormalityFilter
    template_name = "findings/abnormality_list.html"
    paginate_by = 50
    export_basename = "abnormalities"
    export_fields = (
        "name",
        "slug",
        "url",
        "aliases",
        "category",
        "component",
        "change",
        "summary",
        "findings_supporting",
        "findings_not_supporting",
    )

    def get_queryset(self):
        # Queries: one for the page, with both counts as correlated subqueries.
        return Abnormality.objects.published().annotate(
            findings_for=_finding_count(Direction.SUPPORTS),
            findings_against=_finding_count(Direction.DOES_NOT_SUPPORT),
        )

    def export_rows(self, object_list):
        return [
            {
                "name": abnormality.name,
                "slug": abnormality.slug,
                "url": self.request.build_absolute_uri(abnormality.get_absolute_url()),
                "aliases": abnormality.alias_list,
                "category": abnormality.get_category_display(),
                "component": abnormality.component,
                "change": abnormality.get_change_display(),
                "summary": abnormality.summary,
                "findings_supporting": abnormality.findings_for,
                "findings_not_supporting": abnormality.findings_against,
            }
            for abnormality in object_list
        ]


class AbnormalityDetailView(RetractedPageMixin, DetailDownloadMixin, DetailView):
    """An abnormality's page; ``?format=csv|json`` downloads what it lists: a row per
    therapy tied to it (kind "pair", with the pair's stored counts), then its findings
    in the page's groups."""

    queryset = Abnormality.objects.published()
    template_name = "findings/abnormality_detail.html"

    def download_basename(self, context) -> str:
        return f"{self.object.slug}-evidence"

    def download_rows(self, context) -> list[dict]:
        request, abnormality = self.request, self.object
        rows = []
        for rating in context["therapies"]:
            counts = rating.counts
            row = dict.fromkeys(EVIDENCE_EXPORT_FIELDS, "")
            row.update(
                kind="pair",
                group="Therapies tied to it",
                therapy=rating.therapy.name,
                abnormality=abnormality.name,
                level=counts.best_level,
                direction=counts.best_direction,
                supporting=counts.supporting,
                not_supporting=counts.not_supporting,
                other=counts.other,
                contested=counts.contested,
                url=request.build_absolute_uri(
                    reverse(
                        "treatments:pair-evidence", args=[rating.therapy.slug, abnormality.slug]
                    )
                ),
            )
            rows.append(row)
        for key, group, counted_as in [
            ("findings_for", "Findings that support it", "for"),
            ("findings_against", "Findings that do not support it", "against"),
            ("findings_other", "Mixed or descriptive findings", "other"),
            ("held_findings", "Source's notice awaiting review", "held"),
            ("retracted_findings", "Retracted", "retracted"),
        ]:
            for finding in context[key]:
                rows.append(
                    claim_row(
                        request,
                        finding,
                        kind="finding",
                        group=group,
                        counted_as=counted_as,
                        anchor=f"finding-{finding.pk}",
                        abnormality=abnormality.name,
                        lab_test=finding.lab_test.name if finding.lab_test_id else "",
                    )
                )
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        abnormality = self.object
        # Published and retracted findings in one query: the retracted ones are shown
        # apart, with the editor's reason, and never counted with the rest.
        visible = list(
            Finding.objects.visible()
            .filter(abnormality=abnormality)
            .select_related("source", "lab_test")
        )
        # A finding whose source's retraction awaits an editor's review is shown apart,
        # flagged, and counted in no group's number.
        findings = [f for f in visible if f.is_published and not f.source.notice_held]
        context["held_findings"] = [f for f in visible if f.is_published and f.source.notice_held]
        context["retracted_findings"] = [f for f in visible if f.is_retracted]
        context["findings_for"] = [f for f in findings if f.direction == Direction.SUPPORTS]
        context["findings_against"] = [
            f for f in findings if f.direction == Direction.DOES_NOT_SUPPORT
        ]
        context["findings_other"] = [
            f
            for f in findings
            if f.direction not in (Direction.SUPPORTS, Direction.DOES_NOT_SUPPORT)
        ]
        context["lab_tests"] = list(
            LabTest.objects.published().filter(abnormalities=abnormality).order_by("name")
        )
        # One query: each therapy tied to this abnormality by counted evidence, with the
        # counts stored for the pair on publish (treatments/counts.py, read through the
        # reverse relation treatments adds), strongest first.
        context["therapies"] = list(
            abnormality.therapy_certainties.public()
            .exclude(evidence_best_level="")
            .select_related("therapy")
            .order_by("evidence_best_level", "-evidence_supporting", "therapy__name")
        )
        # What the ranking above no longer counts, and why: the most recent retractions
        # of therapy evidence about this abnormality (one query).
        context["retracted_evidence"], context["more_retracted_evidence"] = recently_retracted(
            abnormality.therapy_evidence.retracted().select_related("therapy", "source")
        )
        return context


class SourceListView(ReaderListView):
    filterset_class = SourceFilter
    template_name = "findings/source_list.html"
    paginate_by = 50
    # format=bibtex|ris: the filtered list as citations (findings/citations.py).
    export_formats = (*EXPORT_FORMATS, *CITATION_FORMATS)
    export_basename = "sources"
    export_fields = (
        "id",
        "key",
        "url",
        "kind",
        "title",
        "authors",
        "container",
        "year",
        "doi",
        "pmid",
        "pmcid",
        "link",
        "retracted",
        "notice_kind",
        "notice_link",
        "notice_held",
    )

    def get_queryset(self):
        # Queries: one for the page.
        return Source.objects.published()

    def export(self, export_format: str):
        if export_format in CITATION_FORMATS:
            return citation_response(
                self.object_list,
                export_format,
                basename=self.export_basename,
                data_version=data_version_of(self.request).number,
            )
        return super().export(export_format)

    def export_rows(self, object_list):
        return [
            {
                "id": source.pk,
                "key": source.key,
                "url": self.request.build_absolute_uri(source.get_absolute_url()),
                "kind": source.get_kind_display(),
                "title": source.title,
                "authors": source.authors,
                "container": source.container,
                "year": source.year,
                "doi": source.doi,
                "pmid": source.pmid,
                "pmcid": source.pmcid,
                "link": source.url,
                "retracted": source.retracted,
                "notice_kind": source.get_notice_kind_display() if source.notice_kind else "",
                "notice_link": source.notice_link,
                "notice_held": source.notice_held,
            }
            for source in object_list
        ]


class SourceDetailView(RetractedPageMixin, DetailView):
    """One source, what it claims here, and how to cite it (``?format=bibtex|ris``
    downloads the citation)."""

    queryset = Source.objects.published()
    template_name = "findings/source_detail.html"

    def get(self, request, *args, **kwargs):
        citation_format = request.GET.get("format", "")
        if not citation_format:
            return super().get(request, *args, **kwargs)
        self.object = self.get_object()
        if citation_format not in CITATION_FORMATS:
            error = InputError("format", "Download format", "must be bibtex or ris.")
            return render(request, "400.html", {"input_errors": [error]}, status=400)
        return citation_response(
            [self.object],
            citation_format,
            basename=self.object.key,
            data_version=data_version_of(request).number,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        source = self.object
        # Each kind of claim in one query, published and retracted together; the
        # retracted ones are shown apart, with the editor's reason, and counted nowhere.
        claims = {
            "findings": Finding.objects.visible()
            .filter(source=source)
            .select_related("abnormality", "lab_test"),
            "therapy_evidence": source.therapy_evidence.visible().select_related(
                "therapy", "abnormality"
            ),
            "regulatory_statuses": source.regulatory_statuses.visible().select_related("therapy"),
            "harms": source.harms.visible().select_related("therapy"),
        }
        retracted = []
        for name, queryset in claims.items():
            rows = list(queryset)
            context[name] = [claim for claim in rows if claim.is_published]
            retracted += [claim for claim in rows if claim.is_retracted]
        context["retracted_claims"] = retracted
        context["bibtex"] = sources_bibtex([source])
        context["ris"] = sources_ris([source])
        context["citation"] = source_citation(source)
        return context


class GlossaryView(TemplateView):
    """/glossary/: the published glossary terms, each with its definition and where it
    comes from. Queries: the terms with their sources; data version."""

    template_name = "findings/glossary.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["terms"] = list(
            # Alphabetical whatever the case: "CD56bright", "cytokines", "E:T ratio".
            GlossaryTerm.objects.published().select_related("source").order_by(Lower("term"))
        )
        # The level letters are defined in code (findings.models.Level), where the
        # rules that assign them live: listed here so that a letter is explained too.
        context["levels"] = [
            (letter, LEVEL_SHORT[letter], label.split(" — ", 1)[1])
            for letter, label in Level.choices
        ]
        context["current"] = "glossary"
        return context
