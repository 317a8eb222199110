"""API viewsets of therapies, their evidence, their regulatory status and their harms."""

import functools
from collections.abc import Iterable

import orjson
from django.db.models import F, Prefetch, prefetch_related_objects
from django.http import FileResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.views import APIView

from curation.rest import KeysetPagination
from curation.rowlists import Represented, RowPlan
from curation.statements import template_dicts, template_prefetch, template_records, template_rows
from curation.viewsets import (
    ApiViewSetMixin,
    DraftWriteViewSet,
    ReadOnlyViewSet,
    ReviewActionsMixin,
    RowListMixin,
)
from findings.api import CLAIM_BOUNDED_COUNT, CLAIM_ROW_READS, ID_REGEX, SLUG_REGEX
from findings.models import Finding, Level
from treatments.filters import (
    HarmFilter,
    PairCertaintyFilter,
    RegulatoryStatusFilter,
    ReleaseFilter,
    TherapyEvidenceFilter,
    TherapyFilter,
)
from treatments.models import (
    RELEASE_LABEL_REGEX,
    Harm,
    PairCertainty,
    RegulatoryStatus,
    Release,
    Therapy,
    TherapyEvidence,
)
from treatments.releases import RELEASE_CONTENT_TYPES, release_file_path
from treatments.serializers import (
    HarmSerializer,
    PairCertaintySerializer,
    RegulatoryStatusSerializer,
    ReleaseSerializer,
    TherapyEvidenceSerializer,
    TherapyHarmSerializer,
    TherapySerializer,
)
from treatments.summaries import (
    attach_evidence_counts,
    pair_summaries,
    pairs_as_json,
    set_counts,
)


def attach_ratings(therapies: Iterable[Therapy]) -> None:
    """Set ``rating`` on each therapy: its rating as a whole, or None. One query for the
    whole page, of the therapy-wide rows only: each abnormality summary already has its
    shown ``certainty`` and ``net_direction`` (treatments/summaries.py), and a pair's
    full rating (reasons, the ids it counts) is not part of a therapy's representation."""
    therapies = list(therapies)

    def build(ids):
        return (
            PairCertainty.objects.therapy_wide()
            .filter(therapy_id__in=ids)
            .select_related("override")
        )

    # The same statement for every page of as many therapies: compiled once.
    ids = [t.pk for t in therapies]
    ratings = template_records(("therapy_ratings",), build, ids, PairCertainty.objects.db)
    if ratings is None:
        ratings = build(ids)
    by_therapy = {r.therapy_id: r for r in ratings}
    for therapy in therapies:
        therapy.rating = by_therapy.get(therapy.pk)


# A therapy's abnormality summaries come as the JSON text the API shows, written from
# each stored row's counts_json (treatments/summaries.py pairs_as_json): representing a
# thousand of them a page in Python, a dict per pair and one per its counts, was a fifth
# of a therapy list's time at 500,000 items (issue 14). False: from the stored pairs,
# through TherapyAbnormalitySerializer (the tests compare both ways).
PAIRS_AS_JSON = True


def attach_abnormality_summaries(therapies: Iterable[Therapy], *, as_json: bool = False) -> None:
    """Set ``abnormality_summaries`` on each therapy (the abnormalities its published
    evidence ties it to, strongest first) and its ``supporting``/``not_supporting``
    counts, from the per-therapy summaries: one grouped query for the whole page, none
    once they are cached until the next publish (treatments/summaries.py). With
    ``as_json`` (a response the renderer writes), the summaries come as the JSON text of
    their list (an ``orjson.Fragment``, which the renderer passes through)."""
    therapies = list(therapies)
    if not therapies:
        return
    ids = [therapy.pk for therapy in therapies]
    if as_json and PAIRS_AS_JSON:
        written = pairs_as_json(ids)
        for therapy in therapies:
            summary = written[therapy.pk]
            set_counts(therapy, summary.counts)
            therapy.abnormality_summaries = orjson.Fragment(summary.abnormalities)
    else:
        summaries = pair_summaries(ids)
        attach_evidence_counts(therapies, summaries)
        for therapy in therapies:
            # The stored pairs themselves (tuples, never changed): the serializer reads them.
            therapy.abnormality_summaries = [
                pair for pair in summaries[therapy.pk] if pair.abnormality_id is not None
            ]
    attach_ratings(therapies)


def abnormality_summaries_warm(therapy_ids: Iterable[int]) -> None:
    """Fill the shared cache with the therapies' summaries as every reader reads them:
    as stored pairs (the pages, the downloads) and as the API's JSON text."""
    ids = list(therapy_ids)
    pair_summaries(ids)
    if PAIRS_AS_JSON:
        pairs_as_json(ids)


def _published_harms():
    return Harm.objects.published().select_related("source")


# A therapy list's harms are represented from values() rows (curation/rowlists.py), as
# TherapyHarmSerializer shows them: DRF made a harm and its source per row and walked two
# serializers for them, a fifth of a therapy list's time (issue 14). False: as model
# instances through DRF (the tests compare both ways).
HARMS_FROM_VALUES = True


@functools.cache
def harm_plan() -> RowPlan:
    """How TherapyHarmSerializer shows a harm, read from columns (its citation's notice
    properties read the columns CLAIM_ROW_READS names)."""
    return RowPlan(TherapyHarmSerializer(), Harm, CLAIM_ROW_READS)


def _harm_rows(therapy_ids):
    columns = (*harm_plan().columns, "therapy_id")
    return _published_harms().filter(therapy__in=therapy_ids).values(*columns)


def attach_harms(therapies: Iterable[Therapy]) -> None:
    """Set ``published_harms`` on each therapy: its published harms with their sources,
    in their order, already represented (``HARMS_FROM_VALUES``) or as model instances.
    One query for the whole page, by a statement compiled once where it can be
    (curation/statements.py)."""
    therapies = list(therapies)
    if HARMS_FROM_VALUES:
        ids = [therapy.pk for therapy in therapies]
        rows = template_dicts(("therapy harm rows",), _harm_rows, ids, Harm.objects.db)
        if rows is None:
            rows = list(_harm_rows(ids))
        shown: dict[int, Represented] = {therapy.pk: Represented() for therapy in therapies}
        for row, harm in zip(rows, harm_plan().represent(rows), strict=True):
            shown[row["therapy_id"]].append(harm)
        for therapy in therapies:
            therapy.published_harms = shown[therapy.pk]
        return

    def build(ids):
        return _published_harms().filter(therapy__in=ids).annotate(link_owner=F("therapy_id"))

    name, to_attr = "harms", "published_harms"
    if not template_prefetch(
        ("therapy harms",), therapies, name, build, Harm.objects.db, to_attr=to_attr
    ):
        prefetch_related_objects(
            therapies, Prefetch(name, queryset=_published_harms(), to_attr=to_attr)
        )


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
        # published harms of the whole page in one query (attach_harms).
        return Therapy.objects.visible_to(self.request.user).with_evidence_summary()

    def prepare_rows(self, rows):
        # A CSV file's cells are made from the representation: in Python.
        attach_abnormality_summaries(rows, as_json=not self.wants_csv())
        attach_harms(rows)

    def get_object(self):
        therapy = super().get_object()
        attach_abnormality_summaries([therapy], as_json=True)
        attach_harms([therapy])
        return therapy


class TherapyEvidenceViewSet(RowListMixin, ReviewActionsMixin, DraftWriteViewSet):
    """Sourced claims tying a therapy to an abnormality (or to ME/CFS in general).
    Curators and editors (token) create drafts and edit draft or rejected items;
    therapy and abnormality are given by slug, the source by id.

    An item an editor retracted still answers by its id, with `status: retracted` and its
    `retraction` (when and why); lists leave it out unless asked (`status=retracted`), and
    it counts in no therapy's level or totals."""

    serializer_class = TherapyEvidenceSerializer
    filterset_class = TherapyEvidenceFilter
    row_reads = {
        **CLAIM_ROW_READS,
        TherapyEvidence: {"retraction": CLAIM_ROW_READS[Finding]["retraction"]},
    }
    lookup_value_regex = ID_REGEX
    # Keyset paging (`cursor`) beside page numbers: claims are the long lists.
    pagination_class = KeysetPagination
    bounded_count_parameters = CLAIM_BOUNDED_COUNT

    # The query parameters whose list a reader's count is read for from the stored
    # counts (``stored_count``); any other filter is counted row by row.
    stored_count_parameters = frozenset(
        {"therapy", "abnormality", "level", "page", "page_size", "sort"}
    )

    def stored_count(self) -> int | None:
        """For a reader, the list's count as stored on every publish (PairCertainty, by
        treatments/counts.py: the published items whose therapy, source and abnormality,
        if any, are published, held ones included: what the list shows) instead of a
        COUNT(*) joining each item to its parents (~70 ms at 100k items). With ``level``,
        the items listed at that level or better (``evidence_listed_by_level``). None
        where the filters go beyond one therapy, abnormalities and a level, or a stored
        row predates the levels: then the rows are counted."""
        params = self.request.query_params
        if not set(params) <= self.stored_count_parameters:
            return None
        therapies, abnormalities = params.getlist("therapy"), params.getlist("abnormality")
        levels = params.getlist("level")
        one_level = not levels or (len(levels) == 1 and levels[0] in Level.values)
        if len(therapies) > 1 or not all([*therapies, *abnormalities]) or not one_level:
            return None  # left to the filter to judge (or refuse)
        # The levels counted: the one asked for and every better one.
        letters = [letter for letter in Level.values if letter <= levels[0]] if levels else None

        def build(slugs):
            rows = PairCertainty.objects.public()
            if therapies:
                rows = rows.filter(therapy__slug=slugs[0])
            if abnormalities:
                rows = rows.filter(abnormality__slug__in=slugs[len(therapies) :])
            else:
                rows = rows.therapy_wide()
            return rows.listed_total(letters)

        # Summed by the database, in one row; the statement compiled once per shape of the
        # filters (curation/statements.py).
        slugs = [*therapies, *abnormalities]
        shape = ("stored_count", len(therapies), len(abnormalities), levels[0] if levels else "")
        rows = template_rows(shape, build, slugs, PairCertainty.objects.db)
        if rows is None:
            rows = build(slugs)
        [(listed, unknown)] = rows
        if unknown:
            return None  # a row stored before the levels were: count the rows
        return listed

    def get_queryset(self):
        user = self.request.user
        return (
            # Retracted items too: read by id they answer as retracted, with the reason;
            # lists leave them out unless asked (TherapyEvidenceFilter's `status`).
            # Parents tested row by row: a page is read from the order index.
            TherapyEvidence.objects.listed_visible_to(user, retracted=True)
            .select_related("therapy", "abnormality", "source")
            .prefetch_related(
                # Row by row, from the page's links (curation/models.py linked_visible_to).
                Prefetch(
                    "contradicted_by",
                    queryset=TherapyEvidence.objects.linked_visible_to(user).only("pk"),
                ),
                Prefetch(
                    "contradicting_findings",
                    queryset=Finding.objects.linked_visible_to(user).only("pk"),
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
    `direction` (repeatable); `sort=-certainty` puts the most certain first. A pair is
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


class ReleaseViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Data releases: the whole published knowledge base as files (one JSON file with
    every table, one CSV per table, and `manifest.json` with counts and SHA-256
    checksums), newest first. Each is written once and never changed; `latest/`
    redirects to the newest, `latest/files/<name>` to its file. The same for every
    client."""

    http_method_names = ["get", "head", "options"]
    permission_classes = [permissions.AllowAny]
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilter
    queryset = Release.objects.all()
    lookup_field = "label"
    lookup_value_regex = RELEASE_LABEL_REGEX

    def get_object(self):
        release = super().get_object()
        # A release has no record version: its ETag is its body's (conditional_get).
        self.etag_record = None
        return release

    # The schema (curation/viewsets.py ApiSchema): ``latest`` reads like a detail.
    read_actions = ("latest",)
    error_statuses = {"latest": [400, 404]}
    error_descriptions = {"latest": {404: "No release was published yet."}}

    @extend_schema(summary="The newest release", responses=ReleaseSerializer)
    @action(detail=False, url_path="latest")
    def latest(self, request, *args, **kwargs):
        release = newest_release()
        self.kwargs[self.lookup_field] = release.label
        response = self.retrieve(request, *args, **kwargs)
        response["Content-Location"] = reverse("api:release-detail", args=[release.label])
        return response


def newest_release() -> Release:
    release = Release.objects.order_by(*Release._meta.ordering).first()
    if release is None:
        raise exceptions.NotFound("No release has been published yet.")
    return release


class ReleaseFileView(APIView):
    """One file of a release, as written: `Content-Type` by kind, `Content-Length`,
    `ETag` (its SHA-256, as the manifest lists it) and a year's caching, since a
    release's files never change. `latest` as the label serves the newest release's
    file (revalidate it: `Cache-Control: no-cache`, `Content-Location` names the file
    of that release)."""

    permission_classes = [permissions.AllowAny]
    # Documented as a read of one record (curation/viewsets.py ApiSchema).
    action = "retrieve"

    @extend_schema(
        operation_id="releases_files_retrieve",
        summary="Download one file of a release (`latest`: of the newest)",
        responses={
            (200, "application/json"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request, label: str, name: str):
        latest = label == "latest"
        release = newest_release() if latest else Release.objects.filter(label=label).first()
        path = release_file_path(release, name) if release else None
        if path is None or not path.is_file():
            raise exceptions.NotFound(f"Release {label} has no file named {name}.")
        meta = release.files[name]
        etag = f'"{meta["sha256"]}"'
        response = get_conditional_response(request, etag=etag)
        if response is None:
            response = FileResponse(
                path.open("rb"),
                as_attachment=True,
                filename=f"mecfs-kb-{release.label}-{name}",
                content_type=RELEASE_CONTENT_TYPES[path.suffix],
            )
            response["Content-Length"] = str(meta["bytes"])
        response["ETag"] = etag
        if latest:
            # The newest changes with each release: revalidate (the ETag makes it cheap).
            response["Content-Location"] = reverse("api:release-file", args=[release.label, name])
            patch_cache_control(response, no_cache=True)
        else:
            patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
        return response
