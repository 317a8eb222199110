"""FilterSets shared by the public pages and the API (STYLE.md §4)."""

import django_filters
from django import forms
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django_filters.constants import EMPTY_VALUES

from curation.filters import SlugChoiceFilter, SortFilter, SyncFilterSet
from curation.models import Status
from findings.filters import MAX_QUERY_LENGTH, ClaimFilter, IdFilter, SlugsFilter
from findings.fulltext import narrowed
from findings.models import Abnormality, Direction, Level
from treatments.gaps import Gap
from treatments.models import (
    CERTAINTY_ORDER,
    Certainty,
    CertaintyOverride,
    ControlComparison,
    Harm,
    HarmKind,
    NetDirection,
    PairCertainty,
    RegulatoryStatus,
    RegulatoryStatusKind,
    Release,
    Severity,
    Stage,
    Therapy,
    TherapyEvidence,
    TherapyKind,
)

MATCH_CHOICES = [("any", "any of them"), ("all", "all of them")]


class TherapyOrderingFilter(SortFilter):
    """``sort=certainty`` ranks therapies by the certainty of their rating as a whole
    (as readers see it), unrated ones last."""

    def filter(self, qs, value):
        if value and any(param.lstrip("-") == "certainty" for param in value):
            qs = qs.annotate(
                certainty_rank=Subquery(
                    PairCertainty.objects.therapy_wide()
                    .filter(therapy=OuterRef("pk"))
                    .annotate(rank=certainty_rank())
                    .values("rank")[:1]
                )
            )
        return super().filter(qs, value)


class TherapyFilter(SyncFilterSet):
    """Therapies by the published evidence that ties them to abnormalities.

    ``abnormality``, ``level``, ``direction`` and ``match`` describe one evidence
    item together: "tied to low NK cytotoxicity by evidence of level B or better"
    needs a single item that is both, not one item of each.
    """

    abnormality = SlugsFilter(
        field_name="evidence__abnormality",
        to_field_name="slug",
        # Only what the choices show: a form with a thousand abnormalities loads them all.
        queryset=Abnormality.objects.published().only("slug", "name"),
        # The checkboxes' labels: an abnormality's name is what str() gives.
        label_field="name",
        label="Abnormality",
        method="filter_by_evidence",
        help_text="Abnormality slug; repeat the parameter for several.",
        # Pages show a checkbox per abnormality; the API ignores widgets.
        widget=forms.CheckboxSelectMultiple,
    )
    match = django_filters.ChoiceFilter(
        choices=MATCH_CHOICES,
        label="Match",
        method="filter_by_evidence",
        # No blank choice: it would read "any of them" twice; absent means "any".
        empty_label=None,
        help_text="With several abnormalities: tied to any of them (default) or to all.",
    )
    level = django_filters.ChoiceFilter(
        choices=[(letter, f"{letter} or better") for letter in Level.values],
        label="Evidence level",
        method="filter_by_evidence",
        empty_label="any level",
        help_text="Minimum evidence level: B means A or B.",
    )
    direction = django_filters.ChoiceFilter(
        choices=Direction.choices,
        label="Direction",
        method="filter_by_evidence",
        empty_label="any direction",
    )
    kind = django_filters.ChoiceFilter(
        choices=TherapyKind.choices, label="Kind", empty_label="any kind"
    )
    stage = django_filters.ChoiceFilter(
        choices=Stage.choices, label="Development stage", empty_label="any stage"
    )
    q = django_filters.CharFilter(
        method="filter_text", label="Name contains", max_length=MAX_QUERY_LENGTH
    )
    certainty = django_filters.MultipleChoiceFilter(
        choices=Certainty.choices,
        method="filter_certainty",
        label="Certainty (of the therapy as a whole)",
        help_text="high, moderate, low or very_low; repeat the parameter for several. The "
        "rating of the therapy as a whole, as readers see it (an editor's override first).",
        widget=forms.CheckboxSelectMultiple,
    )
    sort = TherapyOrderingFilter(
        fields=(
            ("best_level", "evidence"),
            ("certainty_rank", "certainty"),
            ("name", "name"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "best_level": "Evidence, weakest first",
            "-evidence": "Evidence, strongest first",
            "certainty_rank": "Certainty, least certain first",
            "-certainty": "Certainty, most certain first",
            "name": "Name, A to Z",
            "-name": "Name, Z to A",
            "updated_at": "Last updated, oldest first",
            "-updated": "Last updated, newest first",
        },
        # Level A sorts before E, certainty rank 0 is high: "-" means most first.
        reversed_fields=("best_level", "certainty_rank"),
        tiebreak=("name", "pk"),
        label="Sort by",
        empty_label="strongest evidence first",
    )

    # A therapy shows what its evidence, harms and ratings say.
    sync_children = (
        (TherapyEvidence, "therapy"),
        (Harm, "therapy"),
        (CertaintyOverride, "therapy"),
        (PairCertainty, "therapy"),
    )

    class Meta:
        model = Therapy
        fields = ["abnormality", "match", "level", "direction", "kind", "stage", "q", "certainty"]

    def filter_certainty(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Exists(
                PairCertainty.objects.therapy_wide()
                .filter(therapy=OuterRef("pk"))
                .filter(shown_is("certainty", value))
            )
        )

    def filter_by_evidence(self, queryset, name, value):
        # Applied once, together, in filter_queryset below.
        return queryset

    def evidence(self):
        """The counted evidence items the evidence filters select (no abnormality filter):
        an item whose source's retraction awaits review qualifies a therapy for nothing."""
        data = self.form.cleaned_data
        evidence = TherapyEvidence.objects.counted()
        if data.get("level"):
            evidence = evidence.filter(level__lte=data["level"])
        if data.get("direction"):
            evidence = evidence.filter(direction=data["direction"])
        return evidence

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        abnormalities = list(data.get("abnormality") or [])
        level, direction = data.get("level") or "", data.get("direction")
        if direction:
            evidence = self.evidence()

            def tie(rows, group):
                tying = evidence if group is None else evidence.filter(abnormality__in=group)
                return rows.tied_to(tying)
        else:
            # Abnormality and level alone are in the stored counts of each pair (its
            # strongest level, treatments/counts.py): no search through the evidence.
            def tie(rows, group):
                return rows.tied_by_ratings(group, level=level)

        if abnormalities and data.get("match") == "all":
            for abnormality in abnormalities:
                queryset = tie(queryset, [abnormality])
        elif abnormalities:
            queryset = tie(queryset, abnormalities)
        elif level or direction:
            queryset = tie(queryset, None)
        return queryset

    def filter_text(self, queryset, name, value):
        return narrowed(queryset, [value], drive=False).filter(
            Q(name__icontains=value) | Q(aliases__icontains=value) | Q(summary__icontains=value)
        )


class TherapyEvidenceFilter(ClaimFilter):
    therapy = SlugChoiceFilter(queryset=Therapy.objects.published(), label="Therapy")
    link_kind = django_filters.ChoiceFilter(
        choices=TherapyEvidence._meta.get_field("link_kind").choices
    )

    class Meta:
        model = TherapyEvidence
        fields = ["therapy", "abnormality", "level", "direction", "link_kind", "source", "status"]


class RegulatoryStatusFilter(SyncFilterSet):
    therapy = SlugChoiceFilter(queryset=Therapy.objects.published(), label="Therapy")
    regulatory_status = django_filters.ChoiceFilter(
        choices=RegulatoryStatusKind.choices, label="Regulatory status"
    )
    jurisdiction = django_filters.CharFilter(
        lookup_expr="iexact", label="Jurisdiction", max_length=120
    )
    source = IdFilter(field_name="source_id", label="Source id")
    sort = SortFilter(
        fields=(("date", "date"), ("jurisdiction", "jurisdiction"), ("updated_at", "updated")),
        label="Sort by",
    )

    sync_parents = ("source",)

    class Meta:
        model = RegulatoryStatus
        fields = ["therapy", "regulatory_status", "jurisdiction", "source"]


def shown_is(name: str, values) -> Q:
    """Ratings whose shown ``name`` (certainty or net_direction) is one of ``values``:
    the published override's where an editor set one, else the computed one."""
    values = list(values)
    if name == "net_direction":
        # An override may leave the direction to the computation (blank).
        keep = Q(override__isnull=True) | Q(override__net_direction="")
        return (keep & Q(net_direction__in=values)) | Q(
            override__isnull=False, override__net_direction__in=values
        )
    return Q(override__isnull=True, **{f"{name}__in": values}) | Q(
        override__isnull=False, **{f"override__{name}__in": values}
    )


class CertaintyOrderingFilter(SortFilter):
    """``sort=-certainty`` puts the most certain ratings first (as readers see them, an
    override included); ties by therapy and abnormality, so pages never reshuffle."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES or not any(p not in EMPTY_VALUES for p in value):
            return qs.order_by(*self.tiebreak)
        if any(param.lstrip("-") == "certainty" for param in value):
            qs = qs.annotate(certainty_rank=certainty_rank())
        return super().filter(qs, value)


def certainty_rank() -> Case:
    """0 for high … 3 for very low, as readers see the rating (an override first)."""
    return Case(
        *[
            When(shown_is("certainty", [value]), then=Value(rank))
            for rank, value in enumerate(CERTAINTY_ORDER)
        ],
        output_field=IntegerField(),
    )


class PairCertaintyFilter(SyncFilterSet):
    """Certainty ratings of abnormality-therapy pairs (issue 12), for /api/v1/pairs/ and
    the reader pages. ``certainty`` and ``direction`` match what readers are shown: an
    editor's published override where there is one, else the computed rating."""

    abnormality = SlugsFilter(
        field_name="abnormality",
        queryset=Abnormality.objects.published().only("slug", "name"),
        # The checkboxes' labels: an abnormality's name is what str() gives.
        label_field="name",
        label="Abnormality",
        help_text="Abnormality slug; repeat the parameter for several.",
        widget=forms.CheckboxSelectMultiple,
    )
    therapy = SlugsFilter(
        field_name="therapy",
        queryset=Therapy.objects.published().only("slug", "name"),
        label="Therapy",
        help_text="Therapy slug; repeat the parameter for several.",
        widget=forms.CheckboxSelectMultiple,
    )
    certainty = django_filters.MultipleChoiceFilter(
        choices=Certainty.choices,
        method="filter_shown",
        label="Certainty",
        help_text="high, moderate, low or very_low; repeat the parameter for several.",
        widget=forms.CheckboxSelectMultiple,
    )
    direction = django_filters.MultipleChoiceFilter(
        choices=NetDirection.choices,
        method="filter_shown",
        label="Net direction",
        help_text="benefit, no_benefit, harm, uncertain or not_studied; repeat the "
        "parameter for several.",
        widget=forms.CheckboxSelectMultiple,
    )
    sort = CertaintyOrderingFilter(
        fields=(
            ("certainty_rank", "certainty"),
            ("therapy__name", "therapy"),
            ("abnormality__name", "abnormality"),
            ("computed_at", "updated"),
        ),
        field_labels={
            "certainty_rank": "Certainty, least certain first",
            "-certainty": "Certainty, most certain first",
            "therapy__name": "Therapy",
            "abnormality__name": "Abnormality",
            "computed_at": "Last computed",
        },
        # Certainty rank 0 is high: "-certainty" (most certain first) sorts it ascending.
        reversed_fields=("certainty_rank",),
        tiebreak=("therapy__name", "abnormality__name", "pk"),
        label="Sort by",
        empty_label="therapy, then abnormality",
    )

    # A rating is rewritten whenever what it rests on changes; it shows its override.
    sync_time_fields = ("computed_at",)
    sync_parents = ("override",)

    class Meta:
        model = PairCertainty
        fields = ["abnormality", "therapy", "certainty", "direction"]

    def filter_shown(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            shown_is("net_direction" if name == "direction" else "certainty", value)
        )


class GapFilter(PairCertaintyFilter):
    """The evidence-gap map (/gaps/): the pairs' ratings, with the kind of gap
    (treatments/gaps.py) as one more filter."""

    gap = django_filters.MultipleChoiceFilter(
        choices=Gap.choices,
        label="Gap",
        help_text="absolute, synthesis or none; repeat the parameter for several.",
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta(PairCertaintyFilter.Meta):
        fields = [*PairCertaintyFilter.Meta.fields, "gap"]


class HarmFilter(SyncFilterSet):
    therapy = SlugChoiceFilter(queryset=Therapy.objects.published(), label="Therapy")
    kind = django_filters.ChoiceFilter(choices=HarmKind.choices, label="Kind of harm")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label="Severity")
    control_comparison = django_filters.ChoiceFilter(
        choices=ControlComparison.choices, label="Compared with the control group"
    )
    source = IdFilter(field_name="source_id", label="Source id")
    status = django_filters.ChoiceFilter(
        choices=Status.choices,
        label="Status",
        help_text="`retracted` lists the harms editors withdrew, each with its `retraction` "
        "(when and why); without `status` a list leaves them out. Curators and editors "
        "may also ask for `draft`, `submitted` or `rejected`.",
    )
    q = django_filters.CharFilter(
        method="filter_text",
        label="Effect, statement or quote contains",
        max_length=MAX_QUERY_LENGTH,
    )
    sort = SortFilter(
        fields=(
            ("severity", "severity"),
            ("source__year", "year"),
            ("created_at", "created"),
            ("updated_at", "updated"),
        ),
        label="Sort by",
    )

    sync_parents = ("source",)

    class Meta:
        model = Harm
        fields = ["therapy", "kind", "severity", "control_comparison", "source", "status"]

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(effect__icontains=value) | Q(statement__icontains=value) | Q(quote__icontains=value)
        )

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            # Retracted harms are read by id (shown as retracted), listed only when asked.
            queryset = queryset.exclude(status=Status.RETRACTED)
        return queryset


class ReleaseFilter(SyncFilterSet):
    """The data releases, newest first. ``since_version`` lists those of later data
    versions; ``updated_since``, those written since."""

    sort = SortFilter(
        fields=(("data_version", "updated"),),
        label="Sort by",
        help_text="`-updated` (the default): the newest release first.",
    )

    sync_time_fields = ("created_at",)

    class Meta:
        model = Release
        fields: list[str] = []

    def changed_after_version(self, number: int) -> Q:
        return Q(data_version__gt=number)
