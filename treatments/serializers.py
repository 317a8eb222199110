"""API representations of therapies and their evidence. Fields are listed explicitly;
no business logic here (writes go through curation/services.py)."""

from pathlib import Path

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from curation.rowlists import RepresentedList
from curation.serializers import ModelSerializer
from findings.models import LEVEL_SHORT, Abnormality, Level, Source
from findings.serializers import (
    EVIDENCE_API_FIELDS,
    EVIDENCE_API_READ_ONLY,
    CitationSerializer,
    LevelLabelField,
    RejectStatusMixin,
    SlugLinkField,
    retraction_field,
)
from treatments.counts import EvidenceCounts, LevelDirection
from treatments.knowledge_base import HARM_CONTENT_FIELDS
from treatments.models import (
    Certainty,
    ControlComparison,
    Harm,
    NetDirection,
    PairCertainty,
    RegulatoryStatus,
    Release,
    Therapy,
    TherapyEvidence,
)
from treatments.releases import RELEASE_CONTENT_TYPES, RELEASE_JSON
from treatments.summaries import StoredPair


class CertaintyOverrideSerializer(serializers.Serializer):
    """An editor's published override of a computed rating, with the reason."""

    certainty = serializers.ChoiceField(choices=Certainty.choices)
    net_direction = serializers.ChoiceField(
        choices=NetDirection.choices,
        allow_blank=True,
        help_text="Empty when the editor kept the computed direction.",
    )
    reason = serializers.CharField(help_text="Why the editor overrode the computed rating.")
    published_at = serializers.DateTimeField(source="reviewed_at", allow_null=True)


def _choice(value):
    """What a ChoiceField gives for a stored choice: its plain string (None and "" kept)."""
    return value if value in ("", None) else str(value)


def counts_representation(counts: EvidenceCounts | StoredPair) -> dict:
    """``CountsSerializer``'s representation of ``counts`` (or of a stored pair, which
    has the same names), built directly."""
    return {
        "best_level": str(counts.best_level),
        "best_level_direction": _choice(counts.best_direction),
        "supporting": int(counts.supporting),
        "not_supporting": int(counts.not_supporting),
        "other": int(counts.other),
        "contested": int(counts.contested),
        "total": int(counts.total),
        "held": int(counts.held),
        "studies": int(counts.studies),
        "clinical_studies": int(counts.clinical_studies),
        "controlled_studies": int(counts.controlled_studies),
    }


class CountsSerializer(serializers.Serializer):
    """The counts every page shows for a pair (or a therapy as a whole), stored on
    publish beside the rating (treatments/counts.py has the rules)."""

    best_level = serializers.CharField(
        help_text="The strongest level among the counted items; empty when none."
    )
    best_level_direction = serializers.ChoiceField(
        source="best_direction",
        choices=LevelDirection.choices,
        allow_blank=True,
        help_text="Which way the items at the strongest level point: for, against, mixed, "
        "neither (they only describe) or contested (contradicted, or the source retracted).",
    )
    supporting = serializers.IntegerField(help_text="Counted items that support it.")
    not_supporting = serializers.IntegerField(help_text="Counted items that do not.")
    other = serializers.IntegerField(
        help_text="Counted items with mixed results, that only describe, or contested."
    )
    contested = serializers.IntegerField(
        help_text="Of the other items: contradicted by other published evidence or a "
        "finding, or from a source its publisher retracted. Never counted as supporting."
    )
    total = serializers.IntegerField(help_text="supporting + not_supporting + other.")
    held = serializers.IntegerField(
        help_text="Items listed but counted nowhere while an editor reviews their source's "
        "notice (retraction, expression of concern)."
    )
    studies = serializers.IntegerField(
        help_text="Distinct sources of counted items with a study design (clinical or laboratory)."
    )
    clinical_studies = serializers.IntegerField(help_text="Of those, studies in people.")
    controlled_studies = serializers.IntegerField(
        help_text="Of those, studies with a control group (randomised or not, or a "
        "systematic review of trials)."
    )

    def to_representation(self, instance: EvidenceCounts) -> dict:
        # A list page holds a thousand of these (one per abnormality of each therapy):
        # the values the fields above give, read directly rather than field by field.
        return counts_representation(instance)


class RatingSerializer(ModelSerializer):
    """A certainty rating (issue 12): what readers are shown first (``certainty``,
    ``net_direction``: an editor's override where there is one), the computed rating
    beside it, its reasons in plain sentences and the evidence it counts."""

    certainty = serializers.ChoiceField(
        source="shown_certainty",
        choices=Certainty.choices,
        help_text="As readers are shown it: the override's where an editor set one, else "
        "the computed one.",
    )
    net_direction = serializers.ChoiceField(
        source="shown_direction", choices=NetDirection.choices, help_text="As shown."
    )
    computed_certainty = serializers.ChoiceField(source="certainty", choices=Certainty.choices)
    computed_net_direction = serializers.ChoiceField(
        source="net_direction", choices=NetDirection.choices
    )
    starting_certainty = serializers.ChoiceField(
        choices=Certainty.choices,
        help_text="Where the computation started: high with randomised trials, low with "
        "only observational or uncontrolled studies, very low with only laboratory "
        "evidence or opinion.",
    )
    certainty_reasons = serializers.ListField(
        source="reasons",
        child=serializers.CharField(),
        help_text="Why, in plain sentences: where it started and each step down.",
    )
    what_would_change = serializers.CharField(help_text="What evidence would raise it.")
    override = CertaintyOverrideSerializer(
        allow_null=True, help_text="An editor's published override, or null."
    )
    evidence_counted = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the evidence items the rating rests on (/api/v1/evidence/<id>/).",
    )
    counts = CountsSerializer(
        read_only=True,
        help_text="For, against and other, as every page shows them (the same numbers).",
    )

    class Meta:
        model = PairCertainty
        fields = [
            "certainty",
            "net_direction",
            "computed_certainty",
            "computed_net_direction",
            "starting_certainty",
            "certainty_reasons",
            "what_would_change",
            "override",
            "items_total",
            "items_counted",
            "studies_counted",
            "participants_counted",
            "evidence_counted",
            "counts",
            "computed_at",
        ]
        read_only_fields = fields


class PairCertaintySerializer(RatingSerializer):
    """The certainty rating of one abnormality-therapy pair."""

    therapy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    therapy_name = serializers.CharField(source="therapy.name", read_only=True)
    abnormality = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    abnormality_name = serializers.CharField(source="abnormality.name", read_only=True)

    class Meta(RatingSerializer.Meta):
        fields = [
            "therapy",
            "therapy_name",
            "abnormality",
            "abnormality_name",
            *RatingSerializer.Meta.fields,
        ]
        read_only_fields = fields


class TherapyAbnormalitySerializer(serializers.Serializer):
    """One abnormality a therapy is tied to, summarised over its published evidence."""

    slug = serializers.CharField(source="abnormality_slug")
    name = serializers.CharField(source="abnormality_name")
    best_level = serializers.ChoiceField(
        choices=Level.choices, help_text="The strongest level among the evidence items."
    )
    best_level_label = LevelLabelField(source="best_level")
    best_level_direction = serializers.ChoiceField(
        source="best_direction",
        choices=LevelDirection.choices,
        help_text="Which way the items at the strongest level point.",
    )
    total = serializers.IntegerField(
        help_text="Counted evidence items for this pair: supporting + not_supporting + other."
    )
    supporting = serializers.IntegerField()
    not_supporting = serializers.IntegerField()
    counts = CountsSerializer(read_only=True, help_text="The pair's counts in full.")
    certainty = serializers.ChoiceField(
        choices=Certainty.choices,
        allow_null=True,
        help_text="The pair's certainty as readers are shown it (/api/v1/pairs/ has its "
        "reasons); null while it is not rated.",
    )
    net_direction = serializers.ChoiceField(choices=NetDirection.choices, allow_null=True)

    class Meta:
        # An API page's lists come as JSON text (treatments/summaries.py pairs_as_json).
        list_serializer_class = RepresentedList

    def to_representation(self, instance: StoredPair) -> dict:
        # A thousand per list page: the values the fields above give, read directly
        # from the stored pair (tests/test_api_reads.py compares both ways).
        return {
            "slug": str(instance.abnormality_slug),
            "name": str(instance.abnormality_name),
            "best_level": _choice(instance.best_level),
            "best_level_label": LEVEL_SHORT[instance.best_level],
            "best_level_direction": _choice(instance.best_direction),
            "total": int(instance.total),
            "supporting": int(instance.supporting),
            "not_supporting": int(instance.not_supporting),
            # The pair reads like its EvidenceCounts: no object made for them.
            "counts": counts_representation(instance),
            "certainty": _choice(instance.certainty),
            "net_direction": _choice(instance.net_direction),
        }


def control_comparison_field(**kwargs) -> serializers.ChoiceField:
    # Declared: DRF drops allow_blank from read-only fields, and the schema must say that
    # "" (does not apply: a regulator's warning, a contraindication) is a value.
    return serializers.ChoiceField(
        choices=ControlComparison.choices,
        allow_blank=True,
        help_text="More often than with placebo, also seen with placebo, no control group, "
        'or not stated; "" where it does not apply (a regulator\'s warning, a '
        "contraindication).",
        **kwargs,
    )


class TherapyHarmSerializer(ModelSerializer):
    """One published harm of a therapy, with the source it rests on."""

    citation = CitationSerializer(source="source", read_only=True)
    control_comparison = control_comparison_field(read_only=True)

    class Meta:
        model = Harm
        fields = ["id", *HARM_CONTENT_FIELDS, "source", "citation"]
        read_only_fields = fields
        # A therapy list's harms come represented from values() rows (treatments/api.py
        # attach_harms); a harm instance is represented as DRF does.
        list_serializer_class = RepresentedList


class TherapySerializer(ModelSerializer):
    aliases = serializers.ListField(
        source="alias_list",
        child=serializers.CharField(),
        read_only=True,
        help_text="Other names: brand names, codes, abbreviations.",
    )
    best_level = serializers.ChoiceField(
        choices=Level.choices,
        allow_null=True,
        read_only=True,
        help_text="The strongest level among all its published evidence; null when none.",
    )
    supporting = serializers.IntegerField(
        read_only=True,
        help_text="Counted evidence items that support it (all its evidence; never a "
        "contradicted item).",
    )
    not_supporting = serializers.IntegerField(
        read_only=True, help_text="Counted evidence items that do not support it."
    )
    counts = CountsSerializer(
        read_only=True, help_text="All its evidence counted, as its page shows it."
    )
    abnormalities = TherapyAbnormalitySerializer(
        source="abnormality_summaries",
        many=True,
        read_only=True,
        help_text="The abnormalities its published evidence ties it to, strongest first.",
    )
    rating = RatingSerializer(
        read_only=True,
        allow_null=True,
        help_text="The certainty rating of the therapy as a whole (all its published "
        "evidence); null while it has none.",
    )
    harms = TherapyHarmSerializer(
        source="published_harms",
        many=True,
        read_only=True,
        help_text="Its published harms (adverse effects, tolerability, regulators' warnings, "
        "contraindications, interactions), each with its source. An empty list means no harm "
        "data in the sources this knowledge base holds, not that there are no harms.",
    )

    class Meta:
        model = Therapy
        fields = [
            "slug",
            "name",
            "aliases",
            "kind",
            "stage",
            "mechanism",
            "summary",
            "harms",
            "best_level",
            "supporting",
            "not_supporting",
            "counts",
            "abnormalities",
            "rating",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TherapyEvidenceSerializer(RejectStatusMixin, ModelSerializer):
    therapy = SlugLinkField(
        slug_field="slug", queryset=Therapy.objects.all(), help_text="Slug of the therapy."
    )
    abnormality = SlugLinkField(
        slug_field="slug",
        queryset=Abnormality.objects.all(),
        allow_null=True,
        required=False,
        help_text="Slug of the abnormality; null for evidence about the therapy in ME/CFS "
        "generally (then link_kind must be empty).",
    )
    source = serializers.PrimaryKeyRelatedField(
        queryset=Source.objects.all(), help_text="Id of the source that makes the claim."
    )
    citation = CitationSerializer(source="source", read_only=True)
    level_label = LevelLabelField(source="level")
    contradicted_by = serializers.PrimaryKeyRelatedField(
        many=True,
        read_only=True,
        help_text="Ids of evidence items whose evidence contradicts this one.",
    )
    contradicting_findings = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of findings whose evidence contradicts this one."
    )
    retraction = retraction_field()

    class Meta:
        model = TherapyEvidence
        fields = [
            "id",
            "therapy",
            "abnormality",
            "link_kind",
            "source",
            "citation",
            *EVIDENCE_API_FIELDS,
            "contradicted_by",
            "contradicting_findings",
            "status",
            "retraction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*EVIDENCE_API_READ_ONLY, "contradicting_findings"]


# Named apart from its field `regulatory_status`: openapi-python-client names the record's
# local variable after the model (`regulatory_status`), and the field's value shadowed it,
# which mypy refuses in the generated client (tests/test_api_generated_client.py).
@extend_schema_serializer(component_name="RegulatoryStatusRecord")
class RegulatoryStatusSerializer(ModelSerializer):
    therapy = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    citation = CitationSerializer(source="source", read_only=True)

    class Meta:
        model = RegulatoryStatus
        fields = [
            "id",
            "therapy",
            "jurisdiction",
            "regulatory_status",
            "date",
            "date_note",
            "statement",
            "source",
            "citation",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class HarmSerializer(RejectStatusMixin, ModelSerializer):
    therapy = SlugLinkField(
        slug_field="slug", queryset=Therapy.objects.all(), help_text="Slug of the therapy."
    )
    source = serializers.PrimaryKeyRelatedField(
        queryset=Source.objects.all(), help_text="Id of the source that reports the harm."
    )
    citation = CitationSerializer(source="source", read_only=True)
    control_comparison = control_comparison_field(required=False)
    retraction = retraction_field()

    class Meta:
        model = Harm
        fields = [
            "id",
            "therapy",
            *HARM_CONTENT_FIELDS,
            "source",
            "citation",
            "status",
            "retraction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "citation", "status", "retraction", "created_at", "updated_at"]


class ReleaseFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 of the file, in hex; also its ETag.")
    bytes = serializers.IntegerField()
    content_type = serializers.CharField()
    url = serializers.CharField(help_text="Where to download it.")


class ReleaseSerializer(ModelSerializer):
    """A data release as its manifest describes it, with a download link per file."""

    url = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField(
        help_text="The whole knowledge base in one JSON file (knowledge_base.json)."
    )
    files = serializers.SerializerMethodField(
        help_text="Every file of the release: JSON with every table, one CSV per table, "
        "and manifest.json."
    )

    class Meta:
        model = Release
        fields = [
            "label",
            "data_version",
            "created_at",
            "format_version",
            "counts",
            "url",
            "download",
            "files",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, release: Release) -> str:
        return self._absolute(reverse("api:release-detail", args=[release.label]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, release: Release) -> str:
        return self._absolute(reverse("api:release-file", args=[release.label, RELEASE_JSON]))

    @extend_schema_field(ReleaseFileSerializer(many=True))
    def get_files(self, release: Release) -> list[dict]:
        return [
            {
                "name": name,
                "sha256": meta["sha256"],
                "bytes": meta["bytes"],
                "content_type": RELEASE_CONTENT_TYPES[Path(name).suffix],
                "url": self._absolute(reverse("api:release-file", args=[release.label, name])),
            }
            for name, meta in release.files.items()
        ]
