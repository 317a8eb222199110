"""API representations of suggested revisions (``/api/v1/suggestions/``) and of the data
versions' changes (``/api/v1/changes/``), and the base of every model serializer of the
API. Fields are listed explicitly; no business logic here (curation/revisions.py and
curation/versions.py decide)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.relations import PKOnlyObject

from curation.models import DataChange, Suggestion
from curation.resources import api_kind
from curation.rowlists import datetime_text, iso_datetime


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

    # Whether instances are represented by the steps of ``representation_steps`` (False:
    # DRF's own loop; tests/test_serializer_steps.py compares the two).
    STEPS = True

    def to_representation(self, instance):
        """DRF's representation, by steps made once per serializer: a page of 50
        therapies asked DRF's generic lookup 1,600 times (issue 14)."""
        if not ModelSerializer.STEPS or isinstance(instance, Mapping):
            return super().to_representation(instance)
        steps = self.__dict__.get("_representation_steps")
        if steps is None:
            steps = self._representation_steps = representation_steps(self)
        shown = {}
        for name, step in steps:
            value = step(instance)
            if value is not _SKIP:
                shown[name] = value
        return shown


# A field DRF leaves out of a representation (SkipField).
_SKIP = object()

# DRF fields whose representation of a value is ``str(value)`` or ``int(value)``.
_PLAIN = {
    serializers.CharField.to_representation: str,
    serializers.IntegerField.to_representation: int,
}


def representation_steps(serializer: serializers.Serializer) -> list[tuple[str, Callable]]:
    """(name, step) per readable field of ``serializer``: a step gives the field's value
    in an instance's representation, as ``Serializer.to_representation`` does, or
    ``_SKIP``. A field read from one attribute (no default, DRF's own ``get_attribute``)
    reads it with ``getattr``; where DRF would do more (the attribute is missing or is a
    method to call), and for every other field, the step is DRF's own."""
    steps = []
    # The time zone times are shown in, asked once (DRF asks for each time).
    shown_in = timezone.get_current_timezone() if settings.USE_TZ else None
    for field in serializer._readable_fields:
        attrs = field.source_attrs
        simple = (
            type(field).get_attribute is serializers.Field.get_attribute
            and len(attrs) == 1
            and field.default is empty
        )
        shown_by = type(field).to_representation
        represent = _PLAIN.get(shown_by) or field.to_representation
        if iso_datetime(field):
            represent = functools.partial(
                datetime_text, shown_in=shown_in, represent=field.to_representation
            )
        steps.append(
            (
                field.field_name,
                _attribute_step(field, attrs[0], represent) if simple else _drf_step(field),
            )
        )
    return steps


def _drf_step(field) -> Callable:
    def step(instance):
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return _SKIP
        check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check_for_none is None else field.to_representation(attribute)

    return step


def _attribute_step(field, attr: str, represent: Callable) -> Callable:
    drf = _drf_step(field)

    def step(instance):
        try:
            value = getattr(instance, attr)
        except ObjectDoesNotExist:
            return None  # as DRF's get_attribute has it
        except (AttributeError, KeyError):
            return drf(instance)  # a default, null, left out or an error: DRF says which
        if value is None:
            return None
        if callable(value):
            return drf(instance)  # DRF calls a method taking no arguments
        return represent(value)

    return step


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
