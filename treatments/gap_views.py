"""/gaps/: the evidence-gap map (issue 12). Abnormalities (rows) by therapies (columns),
each rated pair with its number of studies, its controlled trials, its certainty and its
kind of gap (treatments/gaps.py); filtered by one FilterSet, downloadable as CSV; on a
phone, a list per abnormality instead of the grid."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from findings.pages import ReaderListView
from treatments.certainty_words import CERTAINTY_MARK, DIRECTION_MARK
from treatments.filters import GapFilter
from treatments.gaps import GAP_SHORT, Gap, with_gaps
from treatments.models import Certainty, NetDirection, PairCertainty
from treatments.views import CERTAINTY_LEGEND, DIRECTION_LEGEND, pair_url

# As the overview's matrix: more than 20 by 20 cells is more than a reader can scan; the
# rest are named, and every row is in the download.
MAX_ROWS = 20
MAX_COLUMNS = 20


@dataclass
class GapCell:
    rating: PairCertainty

    @property
    def certainty(self) -> str:
        return self.rating.shown_certainty

    @property
    def certainty_label(self) -> str:
        return Certainty(self.certainty).label

    @property
    def mark(self) -> str:
        return CERTAINTY_MARK[self.certainty]

    @property
    def direction_label(self) -> str:
        return NetDirection(self.rating.shown_direction).label

    @property
    def direction_mark(self) -> str:
        return DIRECTION_MARK[self.rating.shown_direction]

    @property
    def gap_label(self) -> str:
        return GAP_SHORT[self.rating.gap]

    @property
    def url(self) -> str:
        return pair_url(self.rating.therapy.slug, self.rating.abnormality.slug)


class GapMapView(ReaderListView):
    filterset_class = GapFilter
    template_name = "treatments/gaps.html"
    paginate_by = None  # a grid, bounded below; the download has every row
    export_formats = ("csv",)
    export_basename = "evidence-gaps"
    export_fields = (
        "abnormality",
        "abnormality_slug",
        "therapy",
        "therapy_slug",
        "studies",
        "clinical_studies",
        "controlled_trials",
        "gap",
        "certainty",
        "net_direction",
        "computed_certainty",
        "computed_direction",
        "override_reason",
        "url",
    )

    def get_queryset(self):
        # One query: the published pairs' ratings with their therapy, abnormality and
        # override, and the counts of studies stored with them.
        return with_gaps(PairCertainty.objects.public().pairs().with_related()).order_by(
            "abnormality__name", "therapy__name", "pk"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ratings = list(context["object_list"]) if not self.input_errors else []
        per_abnormality = Counter(r.abnormality_id for r in ratings)
        per_therapy = Counter(r.therapy_id for r in ratings)
        abnormalities = {r.abnormality_id: r.abnormality for r in ratings}
        therapies = {r.therapy_id: r.therapy for r in ratings}
        # Most pairs first; as many: by name (the query's order).
        rows = sorted(abnormalities.values(), key=lambda a: -per_abnormality[a.pk])[:MAX_ROWS]
        columns = sorted(therapies.values(), key=lambda t: -per_therapy[t.pk])[:MAX_COLUMNS]
        cells = {(r.abnormality_id, r.therapy_id): GapCell(r) for r in ratings}
        grid = [(a, [cells.get((a.pk, t.pk)) for t in columns]) for a in rows]
        # The phone's list: each abnormality with its rated therapies only.
        lists = [(a, [c for c in row if c is not None]) for a, row in grid]
        gaps = Counter(r.gap for r in ratings)
        context.update(
            grid=grid,
            lists=lists,
            columns=columns,
            hidden_rows=len(abnormalities) - len(rows),
            hidden_columns=len(therapies) - len(columns),
            pairs_total=len(ratings),
            absolute_gaps=gaps[Gap.ABSOLUTE],
            synthesis_gaps=gaps[Gap.SYNTHESIS],
            certainty_legend=CERTAINTY_LEGEND,
            direction_legend=DIRECTION_LEGEND,
            gap_choices=Gap.choices,
            # Kept through the form (set from a row's or column's link, or the URL).
            abnormality_slugs=self.request.GET.getlist("abnormality"),
            therapy_slugs=self.request.GET.getlist("therapy"),
        )
        return context

    def export_rows(self, object_list):
        rows = []
        for rating in object_list:
            override = rating.override if rating.override_id else None
            rows.append(
                {
                    "abnormality": rating.abnormality.name,
                    "abnormality_slug": rating.abnormality.slug,
                    "therapy": rating.therapy.name,
                    "therapy_slug": rating.therapy.slug,
                    "studies": rating.studies,
                    "clinical_studies": rating.clinical,
                    "controlled_trials": rating.controlled,
                    "gap": "" if rating.gap == Gap.NONE else rating.gap,
                    "certainty": rating.shown_certainty,
                    "net_direction": rating.shown_direction,
                    "computed_certainty": rating.certainty,
                    "computed_direction": rating.net_direction,
                    "override_reason": override.reason if override else "",
                    "url": self.request.build_absolute_uri(
                        pair_url(rating.therapy.slug, rating.abnormality.slug)
                    ),
                }
            )
        return rows
