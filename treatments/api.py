"""API viewsets of therapies, their evidence, their regulatory status and their harms."""

from collections.abc import Iterable

from django.db.models import Prefetch
from rest_framework import mixins, viewsets

from curation.viewsets import (
    ApiViewSetMixin,
    DraftWriteViewSet,
    ReadOnlyViewSet,
    ReviewActionsMixin,
)
from findings.api import ID_REGEX, SLUG_REGEX
from findings.models import Finding
from treatments.filters import (
    HarmFilter,
    PairCertaintyFilter,
    RegulatoryStatusFilter,
    TherapyEvidenceFilter,
    TherapyFilter,
)
from treatments.models import Harm, PairCertainty, RegulatoryStatus, Therapy, TherapyEvidence
from treatments.serializers import (
    HarmSerializer,
    PairCertaintySerializer,
    RegulatoryStatusSerializer,
    TherapyEvidenceSerializer,
    TherapySerializer,
)
from treatments.summaries import attach_evidence_counts, pair_summaries


def attach_ratings(therapies: Iterable[Therapy]) -> None:
    """Set ``rating`` on each therapy (its rating as a whole, or None) and the shown
    ``certainty`` and ``net_direction`` on each of its abnormality summaries: one query
    for the whole page."""
    therapies = list(therapies)
    ratings = PairCertainty.objects.filter(therapy_id__in=[t.pk for t in therapies]).select_related(
        "override"
    )
    by_pair = {(r.therapy_id, r.abnormality_id): r for r in ratings}
    for therapy in therapies:
        therapy.rating = by_pair.get((therapy.pk, None))
        for row in therapy.abnormality_summaries:
            rating = by_pair.get((therapy.pk, row["abnormality_id"]))
            row["certainty"] = rating.shown_certainty if rating else None
            row["net_direction"] = rating.shown_direction if rating else None


def attach_abnormality_summaries(therapies: Iterable[Therapy]) -> None:
    """Set ``abnormality_summaries`` on each therapy (the abnormalities its published
    evidence ties it to, strongest first) and its ``supporting``/``not_supporting``
    counts, from the per-therapy summaries: one grouped query for the whole page, none
    once they are cached until the next publish (treatments/summaries.py)."""
    therapies = list(therapies)
    if not therapies:
        return
    summaries = pair_summaries(therapy.pk for therapy in therapies)
    attach_evidence_counts(therapies, summaries)
    for therapy in therapies:
        # Copies: the summaries may come from the shared cache, and ratings are added.
        therapy.abnormality_summaries = [
            dict(row) for row in summaries[therapy.pk] if row["abnormality_id"] is not None
        ]
    attach_ratings(therapies)


class TherapyViewSet(ReadOnlyViewSet):
    """Candidate treatments, each with its aliases, the abnormalities its published
    evidence ties it to and the best level per abnormality.

    `abnormality`, `level` and `direction` describe one evidence item together:
    `?abnormality=low-nk-cell-cytotoxicity&level=B` lists therapies with at least one
    published item of level A or B about low NK cell cytotoxicity. Repeat
    `abnormality` for several; `match=all` asks for all of them."""

    serializer_class = TherapySerializer
    filterset_class = TherapyFilter
    lookup_field = "slug"
    lookup_value_regex = SLUG_REGEX

    def get_queryset(self):
        # Counts come with the abnormality summaries (attach_abnormality_summaries); the
        # published harms of the whole page in one query, with their sources.
        return (
            Therapy.objects.visible_to(self.request.user)
            .with_evidence_summary()
            .prefetch_related(
                Prefetch(
                    "harms",
                    queryset=Harm.objects.published().select_related("source"),
                    to_attr="published_harms",
                )
            )
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_abnormality_summaries(page)
        return page

    def get_object(self):
        therapy = super().get_object()
        attach_abnormality_summaries([therapy])
        return therapy


class TherapyEvidenceViewSet(ReviewActionsMixin, DraftWriteViewSet):
    """Sourced claims tying a therapy to an abnormality (or to ME/CFS in general).
    Curators and editors (token) create drafts and edit draft or rejected items;
    therapy and abnormality are given by slug, the source by id.

    An item an editor retracted still answers by its id, with `status: retracted` and its
    `retraction` (when and why); lists leave it out unless asked (`status=retracted`), and
    it counts in no therapy's level or totals."""

    serializer_class = TherapyEvidenceSerializer
    filterset_class = TherapyEvidenceFilter
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        user = self.request.user
        return (
            # Retracted items too: read by id they answer as retracted, with the reason;
            # lists leave them out unless asked (TherapyEvidenceFilter's `status`).
            TherapyEvidence.objects.visible_to(user, retracted=True)
            .select_related("therapy", "abnormality", "source")
            .prefetch_related(
                Prefetch(
                    "contradicted_by", queryset=TherapyEvidence.objects.visible_to(user).only("pk")
                ),
                Prefetch(
                    "contradicting_findings", queryset=Finding.objects.visible_to(user).only("pk")
                ),
            )
        )


class RegulatoryStatusViewSet(ReadOnlyViewSet):
    """Where a therapy can be had, according to one source each."""

    serializer_class = RegulatoryStatusSerializer
    filterset_class = RegulatoryStatusFilter
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return RegulatoryStatus.objects.visible_to(self.request.user).select_related(
            "therapy", "source"
        )


class PairCertaintyViewSet(ApiViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """How sure we are that a therapy helps people with an abnormality (issue 12): one
    certainty rating per abnormality-therapy pair, computed from the structured study
    fields of the published evidence (GRADE-style; the rules are in docs/data-model.md)
    and stored, with its reasons in plain sentences. `certainty` and `net_direction` are
    what readers are shown: an editor's published `override` where there is one (the
    computed rating stays beside it as `computed_certainty` and
    `computed_net_direction`).

    Filter by `abnormality` and `therapy` (slugs, repeatable), `certainty` and
    `direction` (repeatable); `sort=certainty` puts the most certain first. A pair is
    listed once it has published evidence (or an override); to get one pair, filter by
    both slugs. Ratings are recomputed whenever evidence is published, retracted or
    revised, so they follow the `data_version`."""

    serializer_class = PairCertaintySerializer
    filterset_class = PairCertaintyFilter

    def get_queryset(self):
        return (
            PairCertainty.objects.public()
            .pairs()
            .with_related()
            .order_by("therapy__name", "abnormality__name", "pk")
        )


class HarmViewSet(ReviewActionsMixin, DraftWriteViewSet):
    """Sourced harms of a therapy: adverse effects, tolerability, regulators' warnings,
    contraindications and interactions, each as one source reports it (how often, how
    severe, in whom). Curators and editors (token) create drafts and edit draft or
    rejected harms; the therapy is given by slug, the source by id. Review follows the
    same rules as every claim.

    A harm an editor retracted still answers by its id, with `status: retracted` and its
    `retraction` (when and why); lists leave it out unless asked (`status=retracted`)."""

    serializer_class = HarmSerializer
    filterset_class = HarmFilter
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return Harm.objects.visible_to(self.request.user, retracted=True).select_related(
            "therapy", "source"
        )
