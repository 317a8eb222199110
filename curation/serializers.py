"""API representations of suggested revisions (``/api/v1/suggestions/``) and of the data
versions' changes (``/api/v1/changes/``), and the base of every model serializer of the
API. Fields are listed explicitly; no business logic here (curation/revisions.py and
curation/versions.py decide)."""

from __future__ import annotations

import copy

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from curation.models import DataChange, Suggestion
from curation.resources import api_kind


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, building its fields from the model once per class.

    DRF builds every field of a model serializer again for each serializer it makes: it
    looks up the model field, its choices, validators and relations, about 0.4-0.9 ms
    for our serializers, and a detail or a write makes two to four of them. The fields
    depend only on the class (its Meta and declared fields), so the first instance keeps
    them, unbound, and each instance gets copies (``fresh_copy``).
    tests/test_serializer_fields.py compares the result with DRF's, field by field, for
    every serializer of the API."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            # Per class, not inherited: a subclass has fields of its own.
            built = super().get_fields()
            cls._fields_built_once = built
        return {name: fresh_copy(field) for name, field in built.items()}


def fresh_copy(field: serializers.Field) -> serializers.Field:
    """A copy of an unbound field for one serializer to bind.

    DRF's own copy (``Field.__deepcopy__``) remakes the field from deep copies of the
    arguments it was made with: about 25 µs a field, half a millisecond per serializer
    (issue 14). A field keeps no state of its own until it is bound, and binding sets
    its name, parent, label and source on the copy, so a shallow copy is enough: it
    shares only what is never changed after the field is made (choices, validators,
    the related field's queryset, which DRF clones before each use). A field that holds
    other fields (a nested serializer, a list or dict of a child field, a many-related
    field) binds them to itself when it is made: those are remade DRF's way, so that
    each copy has children of its own."""
    if isinstance(field, serializers.BaseSerializer) or any(
        hasattr(field, holder) for holder in ("child", "child_relation")
    ):
        return copy.deepcopy(field)
    return copy.copy(field)


@extend_schema_field(
    {
        "type": "string",
        "description": "The kind of record, named as its API resource: `evidence`, "
        "`finding`, `source`, … (`/api/v1/findings/` holds the `finding` records).",
    }
)
class KindField(serializers.ReadOnlyField):
    def to_representation(self, value):
        return api_kind(value.model_class())


class SuggestedValueSerializer(serializers.Serializer):
    old = serializers.JSONField(help_text="The published value when the change was suggested.")
    new = serializers.JSONField(help_text="The suggested value.")


class DiffRowSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name, as in the record's resource.")
    label = serializers.CharField(help_text="The field's name in curators' words.")
    old = serializers.JSONField(help_text="The published value, links and choices by name.")
    new = serializers.JSONField(help_text="The suggested value, links and choices by name.")


class SuggestionSerializer(ModelSerializer):
    """One suggestion in a list."""

    kind = KindField(source="content_type")
    record = serializers.IntegerField(
        source="object_id", read_only=True, help_text="The id of the record it changes."
    )
    label = serializers.CharField(
        read_only=True, help_text="The record as it was named when the change was suggested."
    )
    fields = serializers.ListField(
        source="changed_fields",
        child=serializers.CharField(),
        read_only=True,
        help_text="The fields it changes.",
    )
    changes = serializers.DictField(
        child=SuggestedValueSerializer(),
        read_only=True,
        help_text="Field by field, the published value and the suggested one, as stored: "
        "ids for links, lists of ids for many-to-many links (`diff` names them).",
    )
    author = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Who suggested it (username)."
    )
    reviewed_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The editor who accepted or rejected it (username); null until then.",
    )
    review_note = serializers.CharField(
        read_only=True,
        help_text="The editor's note: why it was accepted or rejected (its author reads it).",
    )
    stale = serializers.BooleanField(
        source="is_stale",
        read_only=True,
        help_text="The record changed since the suggestion was made, so it cannot be "
        "accepted as it is (suggest the change again against the current version).",
    )

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "kind",
            "record",
            "label",
            "fields",
            "changes",
            "reason",
            "author",
            "state",
            "stale",
            "base_version",
            "created_at",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        ]
        read_only_fields = fields


class SuggestionDetailSerializer(SuggestionSerializer):
    """One suggestion, with its field-by-field difference in curators' words."""

    diff = DiffRowSerializer(
        source="diff_rows",
        many=True,
        read_only=True,
        help_text="Field by field, old and new, links and choices shown by their names.",
    )

    class Meta(SuggestionSerializer.Meta):
        fields = [*SuggestionSerializer.Meta.fields, "diff"]
        read_only_fields = fields


class SuggestionCreateSerializer(serializers.Serializer):
    """The body of ``POST /api/v1/suggestions/``."""

    kind = serializers.CharField(
        max_length=50,
        help_text="The record's resource: `evidence`, `finding` or `source` (the resources "
        "that take PATCH).",
    )
    record = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The id of the published record."
    )
    changes = serializers.DictField(
        allow_empty=False,
        help_text="The fields to change and their new values, written as a PATCH of the "
        'record would write them (`{"statement": "…", "level": "B"}`).',
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the record should change, for the editor who reviews it.",
    )


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class PublicUrlField(serializers.ReadOnlyField):
    """The record's public page as an absolute URL, or null when it has none or readers
    may not see it now."""

    def to_representation(self, value):
        if not value:
            return None
        return self.context["request"].build_absolute_uri(value)


class DataChangeSerializer(ModelSerializer):
    """What one data version did to one record."""

    version = serializers.IntegerField(
        source="version.number", read_only=True, help_text="The data version that made it."
    )
    version_created_at = serializers.DateTimeField(
        source="version.created_at", read_only=True, help_text="When that version was made."
    )
    kind = KindField(source="content_type")
    kind_label = serializers.CharField(
        source="record_kind",
        read_only=True,
        help_text='The kind of record in readers\' words ("therapy evidence").',
    )
    record = serializers.IntegerField(
        source="object_id", read_only=True, help_text="The id of the record."
    )
    label = serializers.CharField(read_only=True, help_text="The record as it was named then.")
    fields = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="For a revision: the fields it changed (empty otherwise).",
    )
    field_labels = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The same fields in readers' words, in the same order.",
    )
    reason = serializers.CharField(
        read_only=True, help_text="Why the record was retracted; empty for other changes."
    )
    url = PublicUrlField(source="public_url")

    class Meta:
        model = DataChange
        fields = [
            "id",
            "version",
            "version_created_at",
            "action",
            "kind",
            "kind_label",
            "record",
            "label",
            "fields",
            "field_labels",
            "reason",
            "url",
        ]
        read_only_fields = fields
