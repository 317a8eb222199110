"""Readers' pages for therapies: the overview with its evidence matrix, the therapy
browser, therapy and pair pages, and search."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.generic import DetailView, TemplateView

from findings.filters import MAX_QUERY_LENGTH
from findings.models import LEVEL_SHORT, Abnormality, Finding, Level
from findings.pages import ReaderListView, form_errors
from treatments.filters import TherapyFilter
from treatments.models import LinkKind, RegulatoryStatus, Therapy, TherapyEvidence
from treatments.search import search


def pair_url(therapy_slug: str, abnormality_slug: str) -> str:
    return reverse(
        "treatments:pair-evidence",
        kwargs={"slug": therapy_slug, "abnormality_slug": abnormality_slug},
    )


# (letter, short name, meaning): ("A", "Replicated", "two or more independent RCTs, …").
LEVELS = [
    (letter, LEVEL_SHORT[letter], label.split(" — ", 1)[1].split(": ", 1)[1])
    for letter, label in Level.choices
]
LINK_KINDS = [(value, *label.split(" — ", 1)) for value, label in LinkKind.choices]


@dataclass
class Tie:
    """A therapy-abnormality pair with its published evidence summarised."""

    abnormality: Abnormality
    therapy_slug: str
    therapy_name: str
    best_level: str
    supporting: int
    not_supporting: int
    total: int

    @property
    def other(self) -> int:
        """Items that are mixed or only describe: listed, but neither for nor against."""
        return self.total - self.supporting - self.not_supporting

    @property
    def url(self) -> str:
        return pair_url(self.therapy_slug, self.abnormality.slug)


class HomeView(TemplateView):
    template_name = "treatments/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Queries: published abnormalities, published therapies, one grouped pair summary.
        abnormalities = list(Abnormality.objects.published().only("name", "slug"))
        therapies = list(Therapy.objects.published().only("name", "slug"))
        summary = {
            (row["abnormality_id"], row["therapy_id"]): row
            for row in TherapyEvidence.objects.published()
            .filter(abnormality__isnull=False)
            .pair_summary()
        }
        # Most-connected therapies and abnormalities first, so that a phone's first
        # screen of the matrix shows filled cells; the rest follow by name.
        therapies.sort(key=lambda t: -sum(1 for _a, th in summary if th == t.pk))
        by_connections = sorted(
            abnormalities, key=lambda a: -sum(1 for ab, _t in summary if ab == a.pk)
        )
        rows = []
        for abnormality in by_connections:
            cells = []
            for therapy in therapies:
                row = summary.get((abnormality.pk, therapy.pk))
                cells.append(
                    Tie(
                        abnormality=abnormality,
                        therapy_slug=therapy.slug,
                        therapy_name=therapy.name,
                        best_level=row["best_level"],
                        supporting=row["supporting"],
                        not_supporting=row["not_supporting"],
                        total=row["total"],
                    )
                    if row
                    else None
                )
            rows.append((abnormality, cells))
        context.update(
            abnormalities=abnormalities,
            therapies=therapies,
            matrix_rows=rows,
            levels=LEVELS,
            link_kinds=LINK_KINDS,
        )
        return context


def ties_by_therapy(therapies: list[Therapy]) -> dict[int, list[Tie]]:
    """For a page of therapies: the abnormalities each is tied to, strongest first.
    Two queries whatever the number of therapies (pair summary, then the names)."""
    by_pk = {therapy.pk: therapy for therapy in therapies}
    rows = list(
        TherapyEvidence.objects.published()
        .filter(therapy_id__in=list(by_pk), abnormality__isnull=False)
        .pair_summary()
    )
    abnormalities = Abnormality.objects.published().in_bulk({row["abnormality_id"] for row in rows})
    ties: dict[int, list[Tie]] = defaultdict(list)
    for row in rows:
        ties[row["therapy_id"]].append(
            Tie(
                abnormality=abnormalities[row["abnormality_id"]],
                therapy_slug=by_pk[row["therapy_id"]].slug,
                therapy_name=by_pk[row["therapy_id"]].name,
                best_level=row["best_level"],
                supporting=row["supporting"],
                not_supporting=row["not_supporting"],
                total=row["total"],
            )
        )
    for therapy_ties in ties.values():
        therapy_ties.sort(key=lambda tie: (tie.best_level, tie.abnormality.name))
    return ties


def access_by_therapy(therapy_ids: list[int]) -> dict[int, list[RegulatoryStatus]]:
    statuses: dict[int, list[RegulatoryStatus]] = defaultdict(list)
    for status in RegulatoryStatus.objects.published().filter(therapy_id__in=therapy_ids):
        statuses[status.therapy_id].append(status)
    return statuses


class TherapyListView(ReaderListView):
    filterset_class = TherapyFilter
    template_name = "treatments/therapy_list.html"
    paginate_by = 20
    export_basename = "therapies"
    export_fields = (
        "name",
        "slug",
        "url",
        "aliases",
        "kind",
        "stage",
        "best_level",
        "supporting",
        "not_supporting",
        "abnormalities",
        "access",
    )

    def get_queryset(self):
        # Default order: strongest evidence first, therapies without evidence last.
        return (
            Therapy.objects.published()
            .with_evidence_summary()
            .order_by(F("best_level").asc(nulls_last=True), "name", "pk")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = list(context["object_list"]) if not self.input_errors else []
        ids = [therapy.pk for therapy in page]
        ties = ties_by_therapy(page)
        access = access_by_therapy(ids)
        context["rows"] = [(therapy, ties[therapy.pk], access[therapy.pk]) for therapy in page]
        context["levels"] = LEVELS
        context["selected_abnormalities"] = set(self.request.GET.getlist("abnormality"))
        return context

    def export_rows(self, object_list):
        therapies = list(object_list)
        ids = [therapy.pk for therapy in therapies]
        ties = ties_by_therapy(therapies)
        access = access_by_therapy(ids)
        return [
            {
                "name": therapy.name,
                "slug": therapy.slug,
                "url": self.request.build_absolute_uri(therapy.get_absolute_url()),
                "aliases": therapy.alias_list,
                "kind": therapy.get_kind_display(),
                "stage": therapy.get_stage_display(),
                "best_level": therapy.best_level or "",
                "supporting": therapy.supporting,
                "not_supporting": therapy.not_supporting,
                "abnormalities": [
                    f"{tie.abnormality.slug} ({tie.best_level})" for tie in ties[therapy.pk]
                ],
                "access": [
                    f"{status.jurisdiction}: {status.get_regulatory_status_display()}"
                    for status in access[therapy.pk]
                ],
            }
            for therapy in therapies
        ]


def _evidence_with_contradictions(evidence):
    return evidence.select_related("source", "abnormality").prefetch_related(
        Prefetch(
            "contradicted_by",
            queryset=TherapyEvidence.objects.published().select_related(
                "source", "therapy", "abnormality"
            ),
        ),
        Prefetch(
            "contradicting_findings",
            queryset=Finding.objects.published().select_related("source", "abnormality"),
        ),
    )


class TherapyDetailView(DetailView):
    queryset = Therapy.objects.published()
    template_name = "treatments/therapy_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        therapy = self.object
        # Published and retracted in one query: a retracted item is kept and shown as
        # retracted, with the editor's reason, but never ranked or grouped with the rest.
        shown = list(
            _evidence_with_contradictions(
                TherapyEvidence.objects.visible().filter(therapy=therapy)
            ).order_by(F("abnormality__name").asc(nulls_last=True), "level", "pk")
        )
        evidence = [e for e in shown if e.is_published]
        retracted = [e for e in shown if e.is_retracted]
        statuses = list(
            RegulatoryStatus.objects.published().filter(therapy=therapy).select_related("source")
        )
        ties = ties_by_therapy([therapy])[therapy.pk]
        groups = []
        for tie in ties:
            items = [e for e in evidence if e.abnormality_id == tie.abnormality.pk]
            groups.append((tie, items))
        general = [e for e in evidence if e.abnormality_id is None]
        sources = {e.source_id: e.source for e in evidence}
        sources.update({s.source_id: s.source for s in statuses})
        context.update(
            ties=ties,
            groups=groups,
            general_evidence=general,
            retracted_evidence=retracted,
            regulatory_statuses=statuses,
            sources=sorted(sources.values(), key=lambda s: (-(s.year or 0), s.title)),
        )
        return context


class PairEvidenceView(TemplateView):
    """Every published item tying one therapy to one abnormality: what a matrix cell shows."""

    template_name = "treatments/pair_evidence.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        therapy = get_object_or_404(Therapy.objects.published(), slug=kwargs["slug"])
        abnormality = get_object_or_404(
            Abnormality.objects.published(), slug=kwargs["abnormality_slug"]
        )
        evidence = list(
            _evidence_with_contradictions(
                TherapyEvidence.objects.published().filter(therapy=therapy, abnormality=abnormality)
            )
        )
        # One row at most: the pair is fixed.
        summary = next(
            iter(
                TherapyEvidence.objects.published()
                .filter(therapy=therapy, abnormality=abnormality)
                .pair_summary()
            ),
            None,
        )
        context.update(therapy=therapy, abnormality=abnormality, evidence=evidence, summary=summary)
        return context


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search for",
        required=False,
        max_length=MAX_QUERY_LENGTH,
        strip=True,
        help_text="Words to find in abnormalities, therapies (also their other names), "
        "sources and claims.",
    )


def search_view(request):
    form = SearchForm(request.GET)
    results = None
    errors = []
    if form.is_valid():
        if form.cleaned_data["q"]:
            results = search(form.cleaned_data["q"])
    else:
        errors = form_errors(form)
    return render(
        request,
        "treatments/search.html",
        {"form": form, "results": results, "input_errors": errors},
        status=400 if errors else 200,
    )
