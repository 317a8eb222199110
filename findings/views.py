"""Readers' pages for abnormalities and sources.

``findings`` never imports ``treatments``. Where these pages show therapies they read
them through the reverse relations ``treatments`` adds to Abnormality and Source
(``therapy_evidence``, ``regulatory_statuses``, ``harms``), whose managers carry treatments'
own ``.published()`` rules: the visibility logic is still written once.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.generic import DetailView, TemplateView

from curation.cache import public_cache_get_or_set, public_count
from curation.models import Status
from curation.pages import RetractedPageMixin, page_number_check
from curation.statements import template_dicts, template_list
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
    source_held_q,
)
from findings.pages import (
    EVIDENCE_EXPORT_FIELDS,
    EXPORT_FORMATS,
    DetailDownloadMixin,
    InputError,
    ReaderListView,
    claim_row,
    recently_retracted,
    recently_retracted_holds,
    recently_retracted_kept,
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


# An abnormality's page lists its findings this many to a page (issue 14): at
# literature scale one abnormality has thousands, and the page read them all.
FINDINGS_PAGE_SIZE = 50
# The therapies tied to an abnormality, as its page lists them (the pairs' stored
# counts): strongest level first, then the most supporting items, then by name. The
# search page's first few (treatments/search.py) follow it.
THERAPIES_TIED_ORDER = ("evidence_best_level", "-evidence_supporting", "therapy__name")
# The pages of an abnormality's findings read by a statement kept per page.
KEPT_PAGES = 5

# The page's groups of published findings, in the page's order: each is a list in the
# template's context, and its number in the ``finding_group`` annotation below.
FINDING_GROUPS = ("findings_for", "findings_against", "findings_other", "held_findings")


def _finding_group():
    """Which of FINDING_GROUPS a published finding is listed in: a finding whose
    source's notice awaits review is shown apart (held), whatever its direction."""
    return Case(
        When(source_held_q("source__"), then=Value(3)),
        When(direction=Direction.SUPPORTS, then=Value(0)),
        When(direction=Direction.DOES_NOT_SUPPORT, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


# The page's order: group by group, strongest evidence first within each (Finding's
# Meta.ordering, as the page listed them before it had pages).
FINDING_PAGE_ORDER = (
    F("finding_group").asc(),
    F("level").asc(),
    F("source_year").desc(),
    F("pk").asc(),
)


def abnormality_findings(abnormality: Abnormality | int):
    """The published findings an abnormality's page lists, in the page's order."""
    return (
        Finding.objects.published()
        .filter(abnormality=abnormality)
        .annotate(finding_group=_finding_group())
        .order_by(*FINDING_PAGE_ORDER)
    )


def finding_group_counts(abnormality: Abnormality) -> dict[str, int]:
    """How many published findings each group of the page has, whatever page is shown:
    one grouped query, kept until the next publish (every reader sees the same)."""

    def build(pks):
        return (
            abnormality_findings(pks[0]).order_by().values("finding_group").annotate(n=Count("pk"))
        )

    def count() -> dict[str, int]:
        counts = dict.fromkeys(FINDING_GROUPS, 0)
        keys = [abnormality.pk]
        # A statement compiled once (curation/statements.py).
        rows = template_dicts(("finding groups",), build, keys, Finding.objects.db)
        for row in build(keys) if rows is None else rows:
            counts[FINDING_GROUPS[row["finding_group"]]] = row["n"]
        return counts

    return public_cache_get_or_set("finding-groups", count, abnormality.pk)


def page_url(url: str, ids: list[int], pk: int, page_size: int, *, before: int = 0) -> str:
    """``url`` with the ``?page=`` of a list that shows ``page_size`` claims a page and
    holds the claims ``ids`` (in its order) after ``before`` others: the page that lists
    ``pk``; ``url`` itself for the first page, or for a claim the list does not hold."""
    if pk in ids and (number := (before + ids.index(pk)) // page_size + 1) > 1:
        return f"{url}?page={number}"
    return url


def finding_url(finding: Finding) -> str:
    """Where readers find ``finding`` (a published or retracted one, with its abnormality
    and source): on its abnormality's page, on the page of the list that holds it; a
    retracted one on the first page, where the most recently retracted are listed apart,
    or, when it is not one of them, on its source's page (which lists them too). A
    finding about a lab test only, on its source's page, likewise
    (``source_claim_url``). One query (the list's ids, or the recently retracted) for a
    finding on an abnormality."""
    anchor = f"finding-{finding.pk}"
    if finding.abnormality_id is None:
        return source_claim_url(finding, "findings", anchor)
    url = finding.abnormality.get_absolute_url()
    if finding.status == Status.PUBLISHED:
        # Its place in the list: the list's ids in order (however the ordering treats a
        # missing year on each database).
        ids = list(abnormality_findings(finding.abnormality).values_list("pk", flat=True))
        url = page_url(url, ids, finding.pk, FINDINGS_PAGE_SIZE)
    elif not recently_retracted_holds(
        Finding.objects.retracted().filter(abnormality=finding.abnormality_id), finding.pk
    ):
        return source_claim_url(finding, "findings", anchor)
    return f"{url}#{anchor}"


def finding_view(request, pk: int):
    """/findings/<pk>/: a finding's own address, for links from elsewhere (search
    results): a redirect to where readers find it (``finding_url``). Queries: the
    finding; its place in the list."""
    finding = get_object_or_404(
        Finding.objects.visible().select_related("abnormality", "source"), pk=pk
    )
    return redirect(finding_url(finding))


def count_previewed(counts: dict, context: dict, lists) -> None:
    """A preview (findings/previews.py) places its claim in a list after
    get_context_data: a claim readers do not see yet is one more in its group's count."""
    for name in lists:
        counts[name] += sum(
            1
            for claim in context[name]
            if getattr(claim, "previewed", False) and claim.status != Status.PUBLISHED
        )


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
                        page=context["page_obj"].number,
                        abnormality=abnormality.name,
                        lab_test=finding.lab_test.name if finding.lab_test_id else "",
                    )
                )
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        abnormality = self.object
        # The findings of one page (FINDINGS_PAGE_SIZE), in the page's order, split into
        # its groups; each group's number counts all of its findings (stored counts).
        counts = dict(finding_group_counts(abnormality))
        # Each read is a statement compiled once (curation/statements.py): building and
        # compiling them took more of the page than running them.
        alias, keys = Finding.objects.db, [abnormality.pk]

        def listed(of):
            return abnormality_findings(of).select_related("source", "lab_test")

        paginator = Paginator(listed(abnormality), FINDINGS_PAGE_SIZE)
        paginator.count = sum(counts.values())
        number, error = page_number_check(self.request.GET.get("page", ""), paginator)
        context["input_errors"] = [error] if error else []
        page = paginator.page(number)
        if number <= KEPT_PAGES:
            # A page's LIMIT and OFFSET are part of its SQL: a statement per page number,
            # for the first few pages, which most readers stay on.
            bottom = (number - 1) * paginator.per_page
            page.object_list = template_list(
                ("abnormality page", "findings", bottom, paginator.per_page),
                lambda pks: listed(pks[0])[bottom : bottom + paginator.per_page],
                keys,
                alias,
            )
        shown = list(page.object_list)
        for group, key in enumerate(FINDING_GROUPS):
            context[key] = [f for f in shown if f.finding_group == group]
        context["finding_counts"] = counts
        context["finding_pages"] = self.group_pages(counts, paginator, page)
        context.update(page_obj=page, paginator=paginator, is_paginated=paginator.num_pages > 1)
        # Retracted findings are shown apart, with the editor's reason, and never
        # counted: the most recent few (one query), in the page's order.
        retracted, context["more_retracted_findings"] = recently_retracted_kept(
            ("abnormality page", "retracted findings"),
            lambda pks: (
                Finding.objects.retracted()
                .filter(abnormality=pks[0])
                .select_related("source", "lab_test")
            ),
            keys,
            alias,
        )
        context["retracted_findings"] = sorted(
            retracted, key=lambda f: (f.level, -(f.source_year or 0), f.pk)
        )
        context["lab_tests"] = template_list(
            ("abnormality page", "lab tests"),
            lambda pks: LabTest.objects.published().filter(abnormalities=pks[0]).order_by("name"),
            keys,
            alias,
        )
        # One query: each therapy tied to this abnormality by counted evidence, with the
        # counts stored for the pair on publish (treatments/counts.py), strongest first.
        # Read from the models of the reverse relations treatments adds (this app does
        # not import treatments), not through the related managers: their records know
        # their abnormality in advance, which a kept statement's cannot.
        ratings = Abnormality._meta.get_field("therapy_certainties").related_model
        context["therapies"] = template_list(
            ("abnormality page", "therapies"),
            lambda pks: (
                ratings.objects.public()
                .filter(abnormality=pks[0])
                .exclude(evidence_best_level="")
                .select_related("therapy")
                .order_by(*THERAPIES_TIED_ORDER)
            ),
            keys,
            alias,
        )
        # What the ranking above no longer counts, and why: the most recent retractions
        # of therapy evidence about this abnormality (one query).
        evidence = Abnormality._meta.get_field("therapy_evidence").related_model
        context["retracted_evidence"], context["more_retracted_evidence"] = recently_retracted_kept(
            ("abnormality page", "retracted evidence"),
            lambda pks: (
                evidence.objects.retracted()
                .filter(abnormality=pks[0])
                .select_related("therapy", "source")
            ),
            keys,
            alias,
        )
        return context

    @staticmethod
    def group_pages(counts: dict[str, int], paginator, page) -> dict[str, tuple[int, int]]:
        """For each group with findings on none of this page: the first and last pages
        that list it (the groups follow each other in FINDING_GROUPS' order)."""
        pages = {}
        start = 0
        for key in FINDING_GROUPS:
            end = start + counts[key]
            first = start // paginator.per_page + 1
            last = (end - 1) // paginator.per_page + 1
            if counts[key] and not first <= page.number <= last:
                pages[key] = (first, last)
            start = end
        return pages

    def render_to_response(self, context, **kwargs):
        count_previewed(context["finding_counts"], context, FINDING_GROUPS)
        if context["input_errors"]:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)


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


# A source's page lists its claims this many to a page (issue 14).
SOURCE_PAGE_SIZE = 50


def source_claim_lists(source: Source) -> dict:
    """The published claims a source's page lists, one kind after the other, each in
    its order (the models' ``Meta.ordering``): its findings, then its therapy evidence
    (read through the reverse relation treatments adds)."""
    return {
        "findings": Finding.objects.published()
        .filter(source=source)
        .select_related("abnormality", "lab_test"),
        "therapy_evidence": source.therapy_evidence.published().select_related(
            "therapy", "abnormality"
        ),
    }


def source_claim_url(claim, kind: str, anchor: str) -> str:
    """Where readers find ``claim`` (with its source) on its source's page: a published
    one on the page that lists it, after every claim of the kinds listed before
    ``kind`` (a key of ``source_claim_lists``); a retracted one where the most recently
    retracted are listed apart, on every page (the first). Queries, for a published
    claim: a count per kind before it (kept until the next publish, as the page's own);
    the ids of its kind. None for a retracted one."""
    source = claim.source
    url = source.get_absolute_url()
    if claim.status == Status.PUBLISHED:
        before = 0
        for name, claims in source_claim_lists(source).items():
            if name == kind:
                ids = list(claims.values_list("pk", flat=True))
                url = page_url(url, ids, claim.pk, SOURCE_PAGE_SIZE, before=before)
                break
            before += public_count(claims)
    return f"{url}#{anchor}"


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
        # What it claims about abnormalities, then about therapies: one list of pages,
        # SOURCE_PAGE_SIZE claims to a page (a review can make thousands of claims);
        # each kind's number counts all of its claims (kept until the next publish).
        paged = source_claim_lists(source)
        counts = {name: public_count(queryset) for name, queryset in paged.items()}
        paginator = Paginator(range(sum(counts.values())), SOURCE_PAGE_SIZE)
        number, error = page_number_check(self.request.GET.get("page", ""), paginator)
        context["input_errors"] = [error] if error else []
        page = paginator.page(number)
        context["claim_pages"] = {}
        offset = 0  # where this kind's claims start in the list of pages
        for name, queryset in paged.items():
            low = max(page.start_index() - 1 - offset, 0)
            high = min(page.end_index() - offset, counts[name])
            # A slice of one kind's claims: one query, none when it is not on this page.
            context[name] = list(queryset[low:high]) if low < high else []
            if counts[name] and not context[name]:
                context["claim_pages"][name] = (
                    offset // SOURCE_PAGE_SIZE + 1,
                    (offset + counts[name] - 1) // SOURCE_PAGE_SIZE + 1,
                )
            offset += counts[name]
        context.update(
            claim_counts=counts,
            page_obj=page,
            paginator=paginator,
            is_paginated=paginator.num_pages > 1,
        )
        # The retracted are shown apart, with the editor's reason, and counted nowhere:
        # the most recent few findings and therapy evidence (a query each, in the order
        # the page lists claims), then every retracted status and harm (few per source;
        # published and retracted in one query each).
        retracted = []
        context["more_retracted_claims"] = False
        for queryset in [
            Finding.objects.retracted().filter(source=source).select_related("abnormality"),
            source.therapy_evidence.retracted().select_related("therapy", "abnormality"),
        ]:
            recent, more = recently_retracted(queryset)
            retracted += sorted(recent, key=lambda claim: (claim.level, claim.pk))
            context["more_retracted_claims"] |= more
        for name, queryset in {
            "regulatory_statuses": source.regulatory_statuses.visible().select_related("therapy"),
            "harms": source.harms.visible().select_related("therapy"),
        }.items():
            rows = list(queryset)
            context[name] = [claim for claim in rows if claim.is_published]
            retracted += [claim for claim in rows if claim.is_retracted]
        context["retracted_claims"] = retracted
        context["bibtex"] = sources_bibtex([source])
        context["ris"] = sources_ris([source])
        context["citation"] = source_citation(source)
        return context

    def render_to_response(self, context, **kwargs):
        count_previewed(context["claim_counts"], context, list(context["claim_counts"]))
        if context["input_errors"]:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)


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
