"""Readers' pages for therapies: the overview with its evidence matrix, the therapy
browser, therapy and pair pages, and search."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Case,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, NullIf, RowNumber
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.generic import DetailView, TemplateView

from curation.cache import public_cache_version
from curation.models import Status
from curation.pages import InputError, RetractedPageMixin, parse_page_number
from curation.reversing import slug_reverse
from curation.statements import template_list, template_prefetch
from findings.filters import MAX_QUERY_LENGTH
from findings.models import LEVEL_SHORT, Abnormality, Finding, Level, Source, source_held_q
from findings.pages import (
    DetailDownloadMixin,
    ReaderListView,
    claim_row,
    form_errors,
    recently_retracted,
    recently_retracted_holds,
)
from findings.views import page_url, source_claim_url
from treatments.certainty_words import CERTAINTY_MARK, DIRECTION_MARK, plain_sentence
from treatments.counts import (
    EvidenceCounts,
    counted_as,
    counts_words,
    direction_label,
    is_contested,
)
from treatments.filters import TherapyFilter
from treatments.matrix import matrix_cached
from treatments.models import (
    Certainty,
    Harm,
    HarmKind,
    LinkKind,
    NetDirection,
    PairCertainty,
    RegulatoryStatus,
    Severity,
    Therapy,
    TherapyEvidence,
)
from treatments.search import search
from treatments.summaries import StoredPair, attach_evidence_counts, pair_summaries, whole


def pair_url(therapy_slug: str, abnormality_slug: str) -> str:
    # A page links hundreds of pairs: filled in, not reversed each (curation/reversing.py).
    return slug_reverse(
        "treatments:pair-evidence", slug=therapy_slug, abnormality_slug=abnormality_slug
    )


# (letter, short name, meaning): ("A", "Replicated", "two or more independent RCTs, …").
LEVELS = [
    (letter, LEVEL_SHORT[letter], label.split(" — ", 1)[1].split(": ", 1)[1])
    for letter, label in Level.choices
]
LINK_KINDS = [(value, *label.split(" — ", 1)) for value, label in LinkKind.choices]


# The legends of the certainty marks (home page matrix, gap map).
CERTAINTY_LEGEND = [(value, label, CERTAINTY_MARK[value]) for value, label in Certainty.choices]
DIRECTION_LEGEND = [(value, label, DIRECTION_MARK[value]) for value, label in NetDirection.choices]


@dataclass
class Tie:
    """A therapy-abnormality pair with its stored counts (treatments/counts.py)."""

    abnormality: Abnormality | TiedAbnormality
    therapy_slug: str
    therapy_name: str
    counts: EvidenceCounts
    # The certainty and net direction readers are shown (treatments/certainty.py), when
    # the pair has a stored rating.
    certainty: str = ""
    direction: str = ""

    @property
    def best_level(self) -> str:
        return self.counts.best_level

    @property
    def supporting(self) -> int:
        return self.counts.supporting

    @property
    def not_supporting(self) -> int:
        return self.counts.not_supporting

    @property
    def other(self) -> int:
        """Mixed, descriptive or contested items: neither for nor against."""
        return self.counts.other

    @property
    def total(self) -> int:
        return self.counts.total

    @property
    def certainty_label(self) -> str:
        return Certainty(self.certainty).label if self.certainty else ""

    @property
    def certainty_mark(self) -> str:
        return CERTAINTY_MARK.get(self.certainty, "")

    @property
    def direction_label(self) -> str:
        return NetDirection(self.direction).label if self.direction else ""

    @property
    def direction_mark(self) -> str:
        return DIRECTION_MARK.get(self.direction, "")

    @property
    def url(self) -> str:
        return pair_url(self.therapy_slug, self.abnormality.slug)

    @property
    def key(self) -> str:
        """'ivig/igg1-subclass-deficiency': names the pair in ``data-pair``."""
        return f"{self.therapy_slug}/{self.abnormality.slug}"


class HomeView(TemplateView):
    template_name = "treatments/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The page is the same for every reader until the next publish: the template
        # keeps it in the shared cache under the public version, and the matrix below
        # is only built (or read from the cache) when that copy is missing.
        built: dict = {}

        def part(name: str):
            def build():
                if not built:
                    built.update(self.matrix_context())
                return built[name]

            return SimpleLazyObject(build)

        context.update(
            public_version=public_cache_version(),
            public_cache_seconds=settings.PUBLIC_CACHE_SECONDS,
            abnormalities=part("abnormalities"),
            therapies=part("therapies"),
            matrix_rows=part("matrix_rows"),
            matrix_note=part("matrix_note"),
            # The years of the earliest and latest published sources (one aggregate
            # query, only when the cached page is missing); "last updated" is the
            # current data version's date, read once per request for the footer.
            source_years=SimpleLazyObject(
                lambda: Source.objects.published().aggregate(first=Min("year"), last=Max("year"))
            ),
            levels=LEVELS,
            link_kinds=LINK_KINDS,
            certainty_legend=CERTAINTY_LEGEND,
            direction_legend=DIRECTION_LEGEND,
        )
        return context

    def matrix_context(self) -> dict:
        # Queries (once per publish, then none: treatments/matrix.py): published
        # abnormalities, published therapies, one grouped pair summary. At scale the
        # matrix is bounded to the most-connected rows and columns.
        matrix = matrix_cached()
        rows = []
        for abnormality in matrix.rows:
            cells = []
            for therapy in matrix.columns:
                pair = matrix.pairs.get((abnormality.pk, therapy.pk))
                cells.append(
                    Tie(
                        abnormality=abnormality,
                        therapy_slug=therapy.slug,
                        therapy_name=therapy.name,
                        counts=pair.counts,
                        certainty=pair.certainty,
                        direction=pair.net_direction,
                    )
                    if pair
                    else None
                )
            rows.append((abnormality, cells))
        hidden = [
            f"{n} more {singular if n == 1 else plural}"
            for n, singular, plural in [
                (matrix.hidden_rows, "abnormality", "abnormalities"),
                (matrix.hidden_columns, "therapy", "therapies"),
            ]
            if n
        ]
        note = (
            f"The matrix shows the {len(matrix.rows)} abnormalities and "
            f"{len(matrix.columns)} therapies tied to the most others; " + " and ".join(hidden)
            if hidden
            else ""
        )
        return {
            "abnormalities": matrix.abnormalities,
            "therapies": matrix.columns,
            "matrix_rows": rows,
            "matrix_note": note,
        }


class TiedAbnormality(NamedTuple):
    """What a tie shows of its abnormality (name, slug, link), from the summary: a card
    page names 160 of them, and a model instance each was a tenth of its time (issue 14)."""

    pk: int
    slug: str
    name: str

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return Abnormality.get_absolute_url(self)


def _tie(therapy: Therapy, pair: StoredPair) -> Tie:
    return Tie(
        abnormality=TiedAbnormality(
            pair.abnormality_id, pair.abnormality_slug, pair.abnormality_name
        ),
        therapy_slug=therapy.slug,
        therapy_name=therapy.name,
        counts=pair.counts,
        certainty=pair.certainty or "",
        direction=pair.net_direction or "",
    )


def ties_by_therapy(
    therapies: list[Therapy], summaries: dict[int, list[StoredPair]] | None = None
) -> dict[int, list[Tie]]:
    """For a page of therapies: the abnormalities each is tied to, strongest first.
    One grouped query whatever the number of therapies, none when their summaries are
    cached since the last publish (treatments/summaries.py) or given."""
    by_pk = {therapy.pk: therapy for therapy in therapies}
    if summaries is None:
        summaries = pair_summaries(by_pk)
    ties: dict[int, list[Tie]] = defaultdict(list)
    for pk, pairs in summaries.items():
        ties[pk] = [_tie(by_pk[pk], pair) for pair in pairs if pair.abnormality_id is not None]
    return ties


def summaries_and_counts(therapies: list[Therapy]) -> dict[int, list[StoredPair]]:
    """Each therapy's summary rows, with its ``supporting``/``not_supporting`` counts
    set from them: one read of the per-therapy summaries."""
    summaries = pair_summaries(therapy.pk for therapy in therapies)
    attach_evidence_counts(therapies, summaries)
    return summaries


# A card names the strongest few ties (and any the reader filtered on); the therapy's
# page lists them all. A popular therapy is tied to hundreds of abnormalities.
TIES_PER_CARD = 8


def card_ties(
    therapy: Therapy, pairs: list[StoredPair], selected: set[str]
) -> tuple[list[Tie], int]:
    """The ties a therapy's card shows, and how many more its page has."""
    tied = [pair for pair in pairs if pair.abnormality_id is not None]
    shown = [
        _tie(therapy, pair)
        for number, pair in enumerate(tied)
        if number < TIES_PER_CARD or pair.abnormality_slug in selected
    ]
    return shown, len(tied) - len(shown)


@dataclass
class Jurisdiction:
    """A therapy's regulatory status in one jurisdiction: what holds now (the latest
    dated entry), then its whole history, oldest first (undated entries last)."""

    name: str
    current: RegulatoryStatus
    history: list[RegulatoryStatus]


def by_jurisdiction(statuses) -> list[Jurisdiction]:
    grouped: dict[str, list[RegulatoryStatus]] = defaultdict(list)
    for status in statuses:
        grouped[status.jurisdiction].append(status)
    found = []
    for name in sorted(grouped):
        history = sorted(
            grouped[name], key=lambda s: (s.sort_date is None, s.sort_date or (0, 0, 0), s.pk)
        )
        dated = [s for s in history if s.sort_date is not None]
        found.append(Jurisdiction(name, (dated or history)[-1], history))
    return found


def access_words(status: RegulatoryStatus) -> str:
    """'United States: Investigational (As of the 2025-08 Wikipedia snapshot.)': one
    status with its date, for downloads."""
    words = f"{status.jurisdiction}: {status.get_regulatory_status_display()}"
    return f"{words} ({status.when})" if status.when else words


def access_by_therapy(therapy_ids: list[int]) -> dict[int, list[Jurisdiction]]:
    """The published statuses of a page of therapies, by jurisdiction: one query."""
    statuses: dict[int, list[RegulatoryStatus]] = defaultdict(list)
    for status in RegulatoryStatus.objects.published().filter(therapy_id__in=therapy_ids):
        statuses[status.therapy_id].append(status)
    return defaultdict(list, {pk: by_jurisdiction(rows) for pk, rows in statuses.items()})


class HarmCell(NamedTuple):
    """What a download says of one harm (``harm_label``), as its row gives it."""

    therapy_id: int
    effect: str
    kind: str
    severity: str
    frequency: str
    source_key: str


_HARM_KINDS = dict(HarmKind.choices)
_SEVERITIES = dict(Severity.choices)


def harms_by_therapy(therapy_ids: list[int]) -> dict[int, list[HarmCell]]:
    """The published harms of a chunk of therapies (a download's), with their sources'
    keys: one query, read as rows (a thousand therapies' harms, no model instances)."""
    harms: dict[int, list[HarmCell]] = defaultdict(list)
    rows = (
        Harm.objects.published()
        .filter(therapy_id__in=therapy_ids)
        .order_by("therapy_id", "pk")
        .values_list(*HarmCell._fields[:-1], "source__key")
    )
    for harm in map(HarmCell._make, rows):
        harms[harm.therapy_id].append(harm)
    return harms


def harm_label(harm: HarmCell) -> str:
    """One harm in a download cell: what, which kind, how severe, how often, and the
    citation key of its source."""
    kind, severity = (
        _HARM_KINDS.get(harm.kind, harm.kind),
        _SEVERITIES.get(harm.severity, harm.severity),
    )
    parts = [str(kind).lower(), f"severity {str(severity).lower()}"]
    if harm.frequency:
        parts.append(f"how often: {harm.frequency}")
    parts.append(f"source {harm.source_key}")
    return f"{harm.effect} ({'; '.join(parts)})"


def with_certainty(therapies):
    """``therapies`` with the certainty and net direction of each one's rating as a whole,
    as readers see it (an editor's override first), as subqueries: no query of its own."""
    rating = PairCertainty.objects.therapy_wide().filter(therapy=OuterRef("pk"))
    return therapies.annotate(
        rated_certainty=Subquery(
            rating.annotate(shown=Coalesce("override__certainty", "certainty")).values("shown")[:1]
        ),
        rated_direction=Subquery(
            rating.annotate(
                shown=Coalesce(NullIf("override__net_direction", Value("")), "net_direction")
            ).values("shown")[:1]
        ),
    )


def _abnormality_words(pair: StoredPair) -> str:
    # Read from the stored pair: an export has a line per pair.
    return f"{pair.abnormality_slug} ({level_words(pair)}: {counts_words(pair)})"


def level_words(counts: EvidenceCounts | StoredPair) -> str:
    """'B against': a level letter never goes without its direction."""
    if not counts.best_level:
        return ""
    return f"{counts.best_level} {direction_label(counts.best_direction)}"


def certainty_words(certainty: str | None, direction: str | None) -> str:
    """'Low certainty, benefit' (for downloads and cards); empty without a rating."""
    if not certainty:
        return ""
    words = f"{Certainty(certainty).label} certainty"
    return f"{words}, {NetDirection(direction).label.lower()}" if direction else words


class TherapyListView(ReaderListView):
    filterset_class = TherapyFilter
    template_name = "treatments/therapy_list.html"
    paginate_by = 20
    export_basename = "therapies"
    # A therapy's row reads its stored pairs (about 30 each at 500,000 evidence items),
    # its statuses and harms: 100 therapies a chunk. A chunk of 1,000 left a worker 21 MiB
    # larger after a download than one of 100, for no measurable time (issue 14, part 5).
    export_row_weight = 10
    export_fields = (
        "name",
        "slug",
        "url",
        "aliases",
        "kind",
        "stage",
        "best_level",
        "best_level_direction",
        "certainty",
        "net_direction",
        "supporting",
        "not_supporting",
        "other",
        "contested",
        "abnormalities",
        "access",
        "access_history",
        "harms",
    )

    def get_queryset(self):
        # Default order: strongest evidence first, therapies without evidence last.
        # The counts come from the per-therapy summaries (cached until the next
        # publish) rather than from SQL: see ties_and_counts().
        return with_certainty(Therapy.objects.published().with_evidence_summary()).order_by(
            F("best_level").asc(nulls_last=True), "name", "pk"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = list(context["object_list"]) if not self.input_errors else []
        ids = [therapy.pk for therapy in page]
        summaries = summaries_and_counts(page)
        access = access_by_therapy(ids)
        selected = set(self.request.GET.getlist("abnormality"))
        rows = []
        for therapy in page:
            shown, therapy.more_ties = card_ties(therapy, summaries[therapy.pk], selected)
            # Filtered by abnormality: that abnormality's own evidence, named, first.
            therapy.selected_ties = [tie for tie in shown if tie.abnormality.slug in selected]
            therapy.certainty_words = certainty_words(
                therapy.rated_certainty, therapy.rated_direction
            )
            therapy.certainty_mark = CERTAINTY_MARK.get(therapy.rated_certainty or "", "")
            rows.append((therapy, shown, access[therapy.pk]))
        context["rows"] = rows
        context["levels"] = LEVELS
        context["selected_abnormalities"] = selected
        return context

    def export_rows(self, object_list):
        therapies = list(object_list)
        ids = [therapy.pk for therapy in therapies]
        summaries = summaries_and_counts(therapies)
        access = access_by_therapy(ids)
        harms = harms_by_therapy(ids)
        return [
            {
                "name": therapy.name,
                "slug": therapy.slug,
                "url": self.request.build_absolute_uri(therapy.get_absolute_url()),
                "aliases": therapy.alias_list,
                "kind": therapy.get_kind_display(),
                "stage": therapy.get_stage_display(),
                # All its evidence (the stored counts of the therapy as a whole).
                "best_level": therapy.counts.best_level,
                "best_level_direction": therapy.counts.best_direction,
                "certainty": therapy.rated_certainty or "",
                "net_direction": therapy.rated_direction or "",
                "supporting": therapy.counts.supporting,
                "not_supporting": therapy.counts.not_supporting,
                "other": therapy.counts.other,
                "contested": therapy.counts.contested,
                # Each abnormality's own evidence: "low-nk-cell-cytotoxicity (C for: 2 for ·
                # 0 against · 0 other)" (a CSV cell joins them with "; ").
                "abnormalities": [
                    _abnormality_words(pair)
                    for pair in summaries[therapy.pk]
                    if pair.abnormality_id is not None
                ],
                # What holds now in each jurisdiction, then every entry, with dates.
                "access": [access_words(j.current) for j in access[therapy.pk]],
                "access_history": [
                    access_words(status) for j in access[therapy.pk] for status in j.history
                ],
                # Empty: no harm data in the sources held (the page says so in words).
                "harms": [harm_label(harm) for harm in harms[therapy.pk]],
            }
            for therapy in therapies
        ]


def _contradicted_by():
    return TherapyEvidence.objects.published().select_related("source", "therapy", "abnormality")


def _contradicting_findings():
    return Finding.objects.published().select_related("source", "abnormality")


def _evidence_with_contradictions(evidence):
    return evidence.select_related("source", "abnormality").prefetch_related(
        Prefetch("contradicted_by", queryset=_contradicted_by()),
        Prefetch("contradicting_findings", queryset=_contradicting_findings()),
    )


def with_contradictions(items: list[TherapyEvidence], alias: str) -> None:
    """Prefetch on ``items`` what ``_evidence_with_contradictions`` prefetches (the
    published items and findings contradicting each), by statements compiled once."""
    links = [
        (
            "contradicted_by",
            _contradicted_by,
            lambda pks: (
                _contradicted_by().filter(contradicts__in=pks).annotate(link_owner=F("contradicts"))
            ),
        ),
        (
            "contradicting_findings",
            _contradicting_findings,
            lambda pks: (
                _contradicting_findings()
                .filter(contradicts_evidence__in=pks)
                .annotate(link_owner=F("contradicts_evidence"))
            ),
        ),
    ]
    for name, queryset, build in links:
        if not template_prefetch(("evidence links", name), items, name, build, alias):
            prefetch_related_objects(items, Prefetch(name, queryset=queryset()))


def therapy_page_evidence(values: list[int]):
    """The evidence items a therapy's page lists (``values``: the therapy's key, then
    those of the abnormalities it shows): the strongest few counted items per
    abnormality shown (and in general), the strongest few retracted items whatever their
    abnormality, and likewise the items whose source's retraction awaits an editor's
    review (held, shown apart); with their sources and abnormalities."""
    therapy, *abnormalities = values
    held = source_held_q("source__")
    strongest = Window(
        RowNumber(),
        partition_by=[
            F("status"),
            Case(
                When(status=Status.RETRACTED, then=Value(0)),
                When(held, then=Value(-1)),
                default=F("abnormality_id"),
                output_field=BigIntegerField(),
            ),
        ],
        order_by=list(GROUP_ORDER),
    )
    return (
        TherapyEvidence.objects.visible()
        .filter(therapy=therapy)
        .filter(
            Q(abnormality_id__in=abnormalities)
            | Q(abnormality__isnull=True)
            | Q(status=Status.RETRACTED)
            | held
        )
        .annotate(rank_in_group=strongest)
        .filter(rank_in_group__lte=EVIDENCE_PER_GROUP)
        .select_related("source", "abnormality")
        .order_by(F("abnormality__name").asc(nulls_last=True), "level", "pk")
    )


def therapy_page_evidence_ids(values: list[int]):
    """The keys of the evidence items a therapy's page lists (``values``: the therapy's
    key, then those of the abnormalities it shows), a group at a time, each group's
    strongest few (``GROUP_ORDER``): the counted items of each abnormality shown and
    those about ME/CFS in general, the items whose source's retraction awaits an editor's
    review (held, shown apart, whatever their abnormality) and the retracted items
    (whatever their abnormality): the items ``therapy_page_evidence`` ranks, each group
    read on its own, a few rows from an index, where the window ranks every item of the
    therapy (for the largest synthetic therapy at 500k, 72,191 items: 0.5-0.7 s, its
    wide rows sorted on disk, against 0.04 s). Its plan must know the values: prepared,
    PostgreSQL runs it by a generic plan that reads the largest group row by row (0.5-1
    s), so it is built each time, and planned for 30-45 ms: for a therapy with fewer items
    the window, kept and prepared, is the faster (``WINDOW_BELOW``)."""
    therapy, *abnormalities = values
    held = source_held_q("source__")
    visible = TherapyEvidence.objects.visible().filter(therapy=therapy)
    counted = visible.filter(status=Status.PUBLISHED)
    groups = [
        *(counted.filter(abnormality=abnormality).exclude(held) for abnormality in abnormalities),
        counted.filter(abnormality__isnull=True).exclude(held),
        counted.filter(held),
        visible.filter(status=Status.RETRACTED),
    ]
    first, *rest = (
        group.order_by(*GROUP_ORDER).values_list("pk")[:EVIDENCE_PER_GROUP] for group in groups
    )
    return first.union(*rest, all=True)


def therapy_page_records(pks: list[int]):
    """The evidence items ``pks`` with their sources and abnormalities, in the page's
    order; still visible (one changed between the two reads is left out)."""
    return (
        TherapyEvidence.objects.visible()
        .filter(pk__in=pks)
        .select_related("source", "abnormality")
        .order_by(F("abnormality__name").asc(nulls_last=True), "level", "pk")
    )


# The order harms are listed in on a therapy's page: what happened to people first, then
# what regulators say, then what to avoid, then overall tolerability.
HARM_KIND_ORDER = {
    kind: number
    for number, kind in enumerate(
        [
            HarmKind.ADVERSE_EFFECT,
            HarmKind.REGULATOR,
            HarmKind.CONTRAINDICATION,
            HarmKind.INTERACTION,
            HarmKind.TOLERABILITY,
        ]
    )
}


# At literature scale one therapy has tens of thousands of items: its page shows the
# strongest few per abnormality, for the abnormalities with the strongest evidence, and
# links every pair to its own page, which lists all of them.
EVIDENCE_PER_GROUP = 5
MAX_GROUPS = 25
# With this many counted and held items or more, a therapy's page reads its groups one
# by one (``therapy_page_evidence_ids``), not by ranking them all. Measured at 500k
# (docs/benchmarks/therapy-page-pg-500k-20261201-window-vs-groups.txt): the window is
# the faster up to 9,292 items, even at 13,528, slower at 22,866 and twice as slow at
# 72,191.
WINDOW_BELOW = 12_000
# Which few of a group a therapy's page shows: the strongest, then the oldest entered.
GROUP_ORDER = (F("level").asc(), F("pk").asc())


class TherapyDetailView(RetractedPageMixin, DetailDownloadMixin, DetailView):
    """A therapy's page; ``?format=csv|json`` downloads the evidence it lists."""

    queryset = Therapy.objects.published()
    template_name = "treatments/therapy_detail.html"

    def download_basename(self, context) -> str:
        return f"{self.object.slug}-evidence"

    def download_rows(self, context) -> list[dict]:
        rows = []
        therapy = self.object.name
        for tie, items in context["groups"]:
            rows += evidence_rows(self.request, items, group=tie.abnormality.name, therapy=therapy)
        for key, group in [
            ("general_evidence", "ME/CFS in general (no specific abnormality)"),
            ("held_evidence", "Source's notice awaiting review"),
            ("retracted_evidence", "Retracted"),
        ]:
            rows += evidence_rows(self.request, context[key], group=group, therapy=therapy)
        return rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        therapy = self.object
        summaries = pair_summaries([therapy.pk])
        ties = ties_by_therapy([therapy], summaries)[therapy.pk]
        shown = ties[:MAX_GROUPS]
        # The stored counts of the therapy as a whole (all its evidence); the items about
        # ME/CFS in general are those of no pair.
        counts = whole(summaries[therapy.pk])
        general_total = counts.total - sum(tie.total for tie in ties)
        # Published and retracted together: a retracted item is kept and shown as
        # retracted, with the editor's reason, but never ranked or grouped with the rest.
        # Each read is a statement compiled once (curation/statements.py): building and
        # compiling them took more of the page than running them.
        alias = TherapyEvidence.objects.db
        values = [therapy.pk, *[tie.abnormality.pk for tie in shown]]
        # One by one where the database takes a LIMIT in each part of a UNION
        # (PostgreSQL; not SQLite, where the window it is).
        one_by_one = connections[alias].features.supports_slicing_ordering_in_compound
        if counts.total + counts.held < WINDOW_BELOW or not one_by_one:
            visible = template_list(
                ("therapy page", "evidence", EVIDENCE_PER_GROUP),
                therapy_page_evidence,
                values,
                alias,
            )
        else:
            pks = [pk for (pk,) in therapy_page_evidence_ids(values)]
            visible = template_list(
                ("therapy page", "evidence by key"), therapy_page_records, pks, alias
            )
        with_contradictions(visible, alias)
        held_evidence = [e for e in visible if e.is_published and e.source.notice_held]
        evidence = [e for e in visible if e.is_published and not e.source.notice_held]
        retracted = [e for e in visible if e.is_retracted]
        # Retracted statuses come in the same query, to be shown apart with the reason.
        visible_statuses = template_list(
            ("therapy page", "statuses"),
            lambda pks: (
                RegulatoryStatus.objects.visible().filter(therapy__in=pks).select_related("source")
            ),
            [therapy.pk],
            alias,
        )
        statuses = [s for s in visible_statuses if s.is_published]
        jurisdictions = by_jurisdiction(statuses)
        # Harms, published and retracted in one query, with their sources.
        visible_harms = sorted(
            template_list(
                ("therapy page", "harms"),
                lambda pks: Harm.objects.visible().filter(therapy__in=pks).select_related("source"),
                [therapy.pk],
                alias,
            ),
            key=lambda h: (HARM_KIND_ORDER.get(h.kind, len(HARM_KIND_ORDER)), h.pk),
        )
        harms = [h for h in visible_harms if h.is_published]
        groups = []
        for tie in shown:
            items = [e for e in evidence if e.abnormality_id == tie.abnormality.pk]
            groups.append((tie, items))
        general = [e for e in evidence if e.abnormality_id is None]
        sources = {e.source_id: e.source for e in [*evidence, *held_evidence]}
        sources.update({s.source_id: s.source for s in statuses})
        sources.update({h.source_id: h.source for h in harms})
        context.update(
            ties=ties,
            counts=counts,
            groups=groups,
            hidden_groups=len(ties) - len(shown),
            general_evidence=general,
            general_total=general_total,
            retracted_evidence=retracted,
            held_evidence=held_evidence,
            regulatory_statuses=statuses,
            jurisdictions=jurisdictions,
            retracted_statuses=[s for s in visible_statuses if s.is_retracted],
            harms=harms,
            retracted_harms=[h for h in visible_harms if h.is_retracted],
            sources=sorted(sources.values(), key=lambda s: (-(s.year or 0), s.title)),
        )
        return context


def evidence_counted_as(item: TherapyEvidence) -> tuple[str, bool]:
    """Where a listed item counts ('for', 'against', 'other', 'held', 'retracted') and
    whether it is contested, by the rules of treatments/counts.py; its contradictions
    are the page's prefetched ones."""
    if item.is_retracted:
        return "retracted", False
    countable = SimpleNamespace(
        direction=item.direction,
        retracted=False,
        held=item.source.notice_held,
        source_retracted=item.source.retracted,
        contradicted=bool(item.contradicted_by.all() or item.contradicting_findings.all()),
    )
    bucket = counted_as(countable)
    return bucket, bucket == "other" and is_contested(countable)


def evidence_rows(
    request, items, *, group: str, therapy: str, abnormality=None, page: int = 1
) -> list[dict]:
    """Download rows of a page's items (``therapy``: their therapy's name; ``abnormality``
    their abnormality's, when the page is about one pair; ``page``: the page's number,
    on a page with pages)."""
    rows = []
    for item in items:
        bucket, contested = evidence_counted_as(item)
        rows.append(
            claim_row(
                request,
                item,
                kind="therapy evidence",
                group=group,
                counted_as=bucket,
                anchor=f"evidence-{item.pk}",
                page=page,
                therapy=therapy,
                abnormality=abnormality
                if abnormality is not None
                else (item.abnormality.name if item.abnormality_id else ""),
                contested="yes" if contested else "",
            )
        )
    return rows


PAIR_PAGE_SIZE = 50


def pair_evidence(therapy: Therapy, abnormality: Abnormality):
    """The published items a pair's page lists, in its order (``Meta.ordering``)."""
    return TherapyEvidence.objects.published().filter(therapy=therapy, abnormality=abnormality)


def evidence_url(item: TherapyEvidence) -> str:
    """Where readers find ``item`` (a published or retracted one, with its therapy,
    abnormality and source), by the rules of ``finding_url``:

    - about an abnormality: on its pair's page, on the page of the list that holds it;
      a retracted one on the first page, where the most recently retracted are listed
      apart, or, when it is not one of them, on its source's page;
    - about ME/CFS in general: on its therapy's page when it is one of the few
      (EVIDENCE_PER_GROUP) that page shows of its group (the general items; those whose
      source's notice awaits review; the retracted), else on its source's page, on the
      page that lists it (``source_claim_url``).

    Queries: one (the ids of its pair's list, of the recently retracted, or of the few
    its therapy's page shows), then, for an item on its source's page, as
    ``source_claim_url``."""
    anchor = f"evidence-{item.pk}"
    if item.abnormality_id is not None:
        url = pair_url(item.therapy.slug, item.abnormality.slug)
        if item.status == Status.PUBLISHED:
            # Its place in the list: the list's ids in order (as finding_url).
            ids = list(pair_evidence(item.therapy, item.abnormality).values_list("pk", flat=True))
            url = page_url(url, ids, item.pk, PAIR_PAGE_SIZE)
        elif not recently_retracted_holds(
            TherapyEvidence.objects.retracted().filter(
                therapy=item.therapy_id, abnormality=item.abnormality_id
            ),
            item.pk,
        ):
            return source_claim_url(item, "therapy_evidence", anchor)
        return f"{url}#{anchor}"
    # The group the therapy's page puts it in (TherapyDetailView's window partitions).
    held = source_held_q("source__")
    if item.status != Status.PUBLISHED:
        group = TherapyEvidence.objects.retracted().filter(therapy=item.therapy_id)
    elif item.source.notice_held:
        group = TherapyEvidence.objects.published().filter(held, therapy=item.therapy_id)
    else:
        group = (
            TherapyEvidence.objects.published()
            .filter(therapy=item.therapy_id, abnormality__isnull=True)
            .exclude(held)
        )
    shown = group.order_by(*GROUP_ORDER).values_list("pk", flat=True)[:EVIDENCE_PER_GROUP]
    if item.pk in list(shown):
        return f"{item.therapy.get_absolute_url()}#{anchor}"
    return source_claim_url(item, "therapy_evidence", anchor)


def evidence_view(request, pk: int):
    """/evidence/<pk>/: an item of therapy evidence's own address, for links from
    elsewhere (search results, the feed): a redirect to where readers find it
    (``evidence_url``); a draft, or an item resting on a record readers do not see, is
    a 404. Queries: the item; its place (``evidence_url``)."""
    item = get_object_or_404(
        TherapyEvidence.objects.visible().select_related("therapy", "abnormality", "source"),
        pk=pk,
    )
    return redirect(evidence_url(item))


def certainty_box(rating: PairCertainty, therapy: str, abnormality: str | None) -> dict:
    """What the summary box at the top of a pair page shows, from the stored rating."""
    override = rating.override if rating.override_id else None
    return {
        "sentence": plain_sentence(rating, therapy, abnormality),
        "certainty": rating.shown_certainty,
        "certainty_label": rating.get_certainty_display()
        if override is None
        else override.get_certainty_display(),
        "mark": CERTAINTY_MARK[rating.shown_certainty],
        "direction": rating.shown_direction,
        "direction_label": PairCertainty(
            net_direction=rating.shown_direction
        ).get_net_direction_display(),
        "direction_mark": DIRECTION_MARK[rating.shown_direction],
        "computed_label": rating.get_certainty_display(),
        "computed_direction_label": rating.get_net_direction_display(),
        "override": override,
        "reasons": rating.reasons,
        "what_would_change": rating.what_would_change,
        "studies": rating.studies_counted,
        "items_counted": rating.items_counted,
        "items_total": rating.items_total,
        "participants": rating.participants_counted,
    }


class PairEvidenceView(RetractedPageMixin, DetailDownloadMixin, TemplateView):
    """Every published item tying one therapy to one abnormality: what a matrix cell
    shows, PAIR_PAGE_SIZE to a page (a popular pair has thousands). Retracted items
    follow in a group of their own, with the reason, counted nowhere. ``?format=csv|
    json`` downloads the rows of the page (``page`` as on the page)."""

    template_name = "treatments/pair_evidence.html"

    def download_basename(self, context) -> str:
        return f"{context['therapy'].slug}-{context['abnormality'].slug}-evidence"

    def download_rows(self, context) -> list[dict]:
        names = {
            "therapy": context["therapy"].name,
            "abnormality": context["abnormality"].name,
            "page": context["page_obj"].number,
        }
        return [
            *evidence_rows(self.request, context["evidence"], group="Evidence", **names),
            *evidence_rows(self.request, context["retracted_evidence"], group="Retracted", **names),
        ]

    def page_response(self, request, *args, **kwargs):
        # A retracted therapy or abnormality is said so by RetractedPageMixin.get.
        context = self.get_context_data(**kwargs)
        return self.render_to_response(context, status=400 if context["input_errors"] else 200)

    def retracted_record(self, **kwargs):
        return (
            Therapy.objects.retracted().filter(slug=kwargs["slug"]).first()
            or Abnormality.objects.retracted().filter(slug=kwargs["abnormality_slug"]).first()
        )

    def get_pair(self, **kwargs) -> tuple[Therapy, Abnormality]:
        # A preview gives its own pair (treatments/previews.py).
        therapy = get_object_or_404(Therapy.objects.published(), slug=kwargs["slug"])
        abnormality = get_object_or_404(
            Abnormality.objects.published(), slug=kwargs["abnormality_slug"]
        )
        return therapy, abnormality

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        therapy, abnormality = self.get_pair(**kwargs)
        # The stored rating of the pair, with its counts and the editor's override, if
        # any: one query.
        rating = (
            PairCertainty.objects.filter(therapy=therapy, abnormality=abnormality)
            .select_related("override")
            .first()
        )
        paginator = Paginator(pair_evidence(therapy, abnormality), PAIR_PAGE_SIZE)
        # The rating already counted the items listed: no COUNT(*) of its own.
        paginator.count = rating.items_total if rating else 0
        input_errors = []
        number = parse_page_number(self.request.GET.get("page", ""))
        if number is None or number > paginator.num_pages:
            input_errors.append(
                InputError(
                    "page",
                    "Page",
                    f"must be a whole number from 1 to {paginator.num_pages}.",
                )
            )
            number = 1
        page = paginator.page(number)
        evidence = list(_evidence_with_contradictions(page.object_list))
        retracted, more_retracted = recently_retracted(
            TherapyEvidence.objects.retracted()
            .filter(therapy=therapy, abnormality=abnormality)
            .select_related("source")
        )
        context.update(
            therapy=therapy,
            abnormality=abnormality,
            rating=rating,
            rating_box=certainty_box(rating, therapy.name, abnormality.name) if rating else None,
            evidence=evidence,
            retracted_evidence=retracted,
            more_retracted=more_retracted,
            summary=rating.counts if rating and rating.evidence_best_level else None,
            pair_key=f"{therapy.slug}/{abnormality.slug}",
            page_obj=page,
            paginator=paginator,
            is_paginated=paginator.num_pages > 1,
            input_errors=input_errors,
        )
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
            # Each therapy found with the stored counts of all its evidence: one query.
            summaries_and_counts(results.therapies)
    else:
        errors = form_errors(form)
    return render(
        request,
        "treatments/search.html",
        {"form": form, "results": results, "input_errors": errors},
        status=400 if errors else 200,
    )
