"""Model serializers build their fields once per class (curation/serializers.py
ModelSerializer) and give each instance its own copy: the fields are those DRF builds
for each instance, one by one, and no two serializers share a field."""

import pytest
from rest_framework import serializers

import findings.serializers
import treatments.serializers
from curation.serializers import ModelSerializer

# The modules that define the API's model serializers: imported so that every subclass
# is counted below.
assert findings.serializers and treatments.serializers

# A related field's repr shows its queryset: read from the (empty) test database.
pytestmark = pytest.mark.django_db


def every_subclass(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *every_subclass(sub)]
    return found


SERIALIZERS = sorted(
    {cls for cls in every_subclass(ModelSerializer) if not cls.__name__.startswith("_")},
    key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
)


def drfs_own_fields(serializer_class) -> dict:
    """The fields as DRF builds them for an instance, without the copy kept per class."""
    return serializers.ModelSerializer.get_fields(serializer_class())


def test_every_model_serializer_of_the_api_is_counted():
    names = {cls.__name__ for cls in SERIALIZERS}
    assert {"TherapyEvidenceSerializer", "TherapySerializer", "SourceSerializer"} <= names
    assert len(SERIALIZERS) >= 14


@pytest.mark.parametrize("serializer_class", SERIALIZERS, ids=lambda cls: cls.__name__)
def test_the_fields_are_drfs_field_by_field(serializer_class):
    expected = drfs_own_fields(serializer_class)
    for _ in range(2):  # the first instance builds the fields, the second copies them
        fields = serializer_class().fields
        assert list(fields) == list(expected)
        for name, field in fields.items():
            assert type(field) is type(expected[name]), name
            # DRF's repr of a field names its class and every argument it was made with.
            assert repr(field) == repr(expected[name]), name
            assert field.field_name == name and field.parent is not None


@pytest.mark.parametrize("serializer_class", SERIALIZERS, ids=lambda cls: cls.__name__)
def test_no_two_serializers_share_a_field(serializer_class):
    first, second = serializer_class(), serializer_class(context={"request": None})
    for name, field in first.fields.items():
        other = second.fields[name]
        assert field is not other, name
        assert field.parent is first and other.parent is second, name


@pytest.mark.parametrize("serializer_class", SERIALIZERS, ids=lambda cls: cls.__name__)
def test_fields_holding_fields_have_children_of_their_own(serializer_class):
    """A field that holds other fields (a list's child, a many-related field's child
    relation, a nested serializer's fields) is remade per serializer with its children
    bound to it; the others are shallow copies bound to the serializer that made them."""
    first, second = serializer_class(), serializer_class()
    for name, field in first.fields.items():
        other = second.fields[name]
        for holder in ("child", "child_relation"):
            child = getattr(field, holder, None)
            if child is not None:
                assert child is not getattr(other, holder), name
                assert child.parent is field, name
        if isinstance(field, serializers.BaseSerializer) and hasattr(field, "fields"):
            for inner_name, inner in field.fields.items():
                assert inner is not other.fields[inner_name], (name, inner_name)
                assert inner.parent is field, (name, inner_name)


def test_a_plain_field_is_copied_not_remade():
    from curation.serializers import fresh_copy

    template = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")], help_text="Pick.")
    copied = fresh_copy(template)
    assert type(copied) is serializers.ChoiceField and copied is not template
    copied.bind("choice", parent=serializers.Serializer())
    assert copied.field_name == "choice" and copied.parent is not None
    assert template.field_name is None and template.parent is None  # the template unbound
    assert copied.run_validation("a") == "a"
    with pytest.raises(serializers.ValidationError):
        copied.run_validation("c")
    listed = serializers.ListField(child=serializers.IntegerField())
    remade = fresh_copy(listed)
    assert remade.child is not listed.child and remade.child.parent is remade
