"""API representations of the findings app. Fields are listed explicitly; no business
logic here (writes go through curation/services.py)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from curation.serializers import ModelSerializer
from findings.duplicates import DIFFERENT_REASON_MAX
from findings.models import (
    LEVEL_SHORT,
    STUDY_FIELDS,
    Abnormality,
    Finding,
    LabTest,
    NoticeKind,
    Source,
)


class NormalisedCharField(serializers.CharField):
    """Runs the model field's own ``to_python`` before validation, so that a pasted
    ``https://doi.org/10.X/Y`` or ``PMID: 123`` is stored the way the admin stores it."""

    def __init__(self, *, model_field, **kwargs):
        self.model_field = model_field
        kwargs.setdefault("max_length", model_field.max_length)
        kwargs.setdefault("validators", list(model_field.validators))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return self.model_field.to_python(super().to_internal_value(data))


class SlugLinkField(serializers.SlugRelatedField):
    """A link written as the record's slug. A NUL character is refused as DRF's CharField
    refuses it (PostgreSQL cannot even compare text holding one): 400, not 500."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "description": "The level's short name: "
        + ", ".join(f"{letter} {name}" for letter, name in LEVEL_SHORT.items())
        + ".",
    }
)
class LevelLabelField(serializers.ReadOnlyField):
    def to_representation(self, value):
        return LEVEL_SHORT[value]


@extend_schema_field(
    {
        "anyOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}],
        "description": "A URL, or empty when none is known.",
    }
)
class OptionalURLField(serializers.URLField):
    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 500)
        super().__init__(**kwargs)


class RejectStatusMixin:
    """``status`` is set only by the review workflow: a write that tries gets a 400
    instead of being silently ignored."""

    def validate(self, attrs):
        if isinstance(self.initial_data, dict) and "status" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "status": "Status cannot be written: new records are drafts, and only "
                    "the review workflow publishes."
                }
            )
        return super().validate(attrs)


class RetractionSerializer(serializers.Serializer):
    """When and why an editor withdrew a published record (``Moderated.retraction``)."""

    retracted_at = serializers.DateTimeField(
        allow_null=True, help_text="When an editor retracted it (null if not recorded)."
    )
    reason = serializers.CharField(help_text="The editor's reason, as readers are shown it.")


class CitationSerializer(ModelSerializer):
    """The source a claim cites, inline, so an app can show it without another call."""

    url = OptionalURLField(read_only=True)
    notice_kind = serializers.ChoiceField(
        choices=NoticeKind.choices,
        allow_blank=True,
        read_only=True,
        help_text="The publisher's most serious notice about the source, or empty.",
    )
    notice_link = serializers.CharField(
        read_only=True, help_text="Where to read the publisher's notice, or empty."
    )
    notice_held = serializers.BooleanField(
        read_only=True,
        help_text="True while the source's retraction (or partial retraction, or expression "
        "of concern) awaits an editor's review: then this claim counts in no level, total or "
        "ranking.",
    )

    class Meta:
        model = Source
        fields = [
            "id",
            "key",
            "title",
            "authors",
            "container",
            "year",
            "doi",
            "pmid",
            "url",
            "retracted",
            "retraction_note",
            "notice_kind",
            "notice_link",
            "notice_held",
            "status",
        ]
        read_only_fields = fields


class SourceSerializer(RejectStatusMixin, ModelSerializer):
    url = OptionalURLField()
    notice_url = OptionalURLField()
    notice_doi = NormalisedCharField(
        model_field=Source._meta.get_field("notice_doi"),
        required=False,
        allow_blank=True,
        help_text="The publisher's notice's own DOI.",
    )
    notice_held = serializers.BooleanField(
        read_only=True,
        help_text="True while a retraction, partial retraction or expression of concern "
        "awaits an editor's review: the claims citing this source count nowhere until then.",
    )
    doi = NormalisedCharField(
        model_field=Source._meta.get_field("doi"),
        required=False,
        allow_blank=True,
        help_text="e.g. 10.1186/1479-5876-9-81; a https://doi.org/ link is accepted and stored "
        "without the prefix, in lower case. Unique.",
    )
    pmid = NormalisedCharField(
        model_field=Source._meta.get_field("pmid"),
        required=False,
        allow_blank=True,
        help_text="PubMed ID, digits only ('PMID: ' is stripped). Unique.",
    )
    pmcid = NormalisedCharField(
        model_field=Source._meta.get_field("pmcid"),
        required=False,
        allow_blank=True,
        help_text="PubMed Central ID, e.g. PMC3147318.",
    )
    different_document = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="true to save a source that a PMCID or a near-identical title (same year) "
        "matches, because it is a different document (the 409 `possible_duplicate` names "
        "the match); give `different_reason` with it.",
    )
    different_reason = serializers.CharField(
        required=False,
        write_only=True,
        allow_blank=True,
        max_length=DIFFERENT_REASON_MAX,
        help_text="Why it is a different document; kept in the record's history.",
    )
    nct_id = NormalisedCharField(
        model_field=Source._meta.get_field("nct_id"),
        required=False,
        allow_blank=True,
        help_text="ClinicalTrials.gov number, e.g. NCT00215813; a clinicaltrials.gov link is "
        "accepted. Unique.",
    )

    class Meta:
        model = Source
        fields = [
            "id",
            "key",
            "kind",
            "title",
            "authors",
            "container",
            "year",
            "published_on",
            "url",
            "doi",
            "pmid",
            "pmcid",
            "nct_id",
            "publication_type",
            "abstract",
            "accessed_on",
            "retracted",
            "retraction_note",
            "notice_kind",
            "notice_doi",
            "notice_url",
            "notice_date",
            "notices_checked_on",
            "notice_held",
            "notice_reviewed_at",
            "notice_review_note",
            "verification_note",
            "status",
            "created_at",
            "updated_at",
            "different_document",
            "different_reason",
        ]
        read_only_fields = [
            "id",
            "notice_held",
            "notice_reviewed_at",
            "notice_review_note",
            "status",
            "created_at",
            "updated_at",
        ]


class AbnormalitySerializer(ModelSerializer):
    aliases = serializers.ListField(
        source="alias_list", child=serializers.CharField(), read_only=True
    )
    lab_tests = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="slug",
        help_text="Slugs of the lab tests that can show this abnormality.",
    )

    class Meta:
        model = Abnormality
        fields = [
            "slug",
            "name",
            "aliases",
            "category",
            "component",
            "change",
            "summary",
            "details",
            "lab_tests",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LabTestSerializer(ModelSerializer):
    abnormalities = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="slug",
        help_text="Slugs of the abnormalities this test can show.",
    )

    class Meta:
        model = LabTest
        fields = [
            "slug",
            "name",
            "measures",
            "specimen",
            "availability",
            "abnormalities",
            "notes",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# The evidence fields of a finding or therapy evidence item as the API shows them (with the
# level's label); what a seed or release file carries is treatments/knowledge_base.py's.
EVIDENCE_API_FIELDS = [
    "statement",
    "plain_summary",
    "quote",
    "study_design",
    "participants",
    "case_definition",
    "direction",
    "level",
    "level_label",
    "curator_note",
    *STUDY_FIELDS,
]

EVIDENCE_API_READ_ONLY = [
    "id",
    "level_label",
    "citation",
    "contradicted_by",
    "status",
    "retraction",
    "created_at",
    "updated_at",
]


def retraction_field() -> RetractionSerializer:
    return RetractionSerializer(
        read_only=True,
        allow_null=True,
        help_text="Null unless `status` is `retracted`: then when and why an editor withdrew "
        "the claim. A retracted claim counts in no level, total or ranking. Not to be "
        "confused with `citation.retracted`, the publisher's retraction of the source.",
    )


class FindingSerializer(RejectStatusMixin, ModelSerializer):
    abnormality = SlugLinkField(
        slug_field="slug",
        queryset=Abnormality.objects.all(),
        allow_null=True,
        required=False,
        help_text="Slug of the abnormality the claim is about.",
    )
    lab_test = SlugLinkField(
        slug_field="slug",
        queryset=LabTest.objects.all(),
        allow_null=True,
        required=False,
        help_text="Slug of the lab test, for a claim about how an abnormality is tested.",
    )
    source = serializers.PrimaryKeyRelatedField(
        queryset=Source.objects.all(), help_text="Id of the source that makes the claim."
    )
    citation = CitationSerializer(source="source", read_only=True)
    level_label = LevelLabelField(source="level")
    contradicted_by = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of findings whose evidence contradicts this one."
    )
    retraction = retraction_field()

    class Meta:
        model = Finding
        fields = [
            "id",
            "abnormality",
            "lab_test",
            "source",
            "citation",
            *EVIDENCE_API_FIELDS,
            "contradicted_by",
            "status",
            "retraction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = EVIDENCE_API_READ_ONLY
