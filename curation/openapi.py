"""What drf-spectacular cannot know about our API by itself, so that the schema says
what the server does (issue 16): the two ways of sending a token, the bounds and types
of every filter, sort keys a client generator can name, and one enum component per
choice set, shared by filters and bodies.

Imported by curation/viewsets.py (the schema class's module), which registers the
extensions before any schema is generated."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django_filters import filters as django_filters
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    """curation.rest.TokenAuthentication: the same key as ``Token <key>`` or as
    ``Bearer <key>`` (what generated clients send by default)."""

    target_class = "curation.rest.TokenAuthentication"
    name = ["tokenAuth", "bearerAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Authorization: Token <key>` (keys: `manage.py "
                "drf_create_token <username>`). A bad key or any other scheme is a 401.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "The same key sent as `Authorization: Bearer <key>`.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        return [{"tokenAuth": []}, {"bearerAuth": []}]


def enum_varname(value: str) -> str:
    """A name for a choice a client generator can use: ``-evidence`` → EVIDENCE_DESC."""
    descending = value.startswith("-")
    name = re.sub(r"\W+", "_", value.lstrip("-")).strip("_").upper() or "EMPTY"
    if name[0].isdigit():
        name = f"VALUE_{name}"
    return f"{name}_DESC" if descending else name


class FilterExtension(DjangoFilterExtension):
    """drf-spectacular's django-filter support, plus what the forms' fields enforce:
    integers for whole-number filters (ids, years, versions) with their bounds, string
    lengths, choices read when the schema is built (suggestions' ``kind``), and named
    sort keys with their meanings."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        extra = filter_field.extra
        for parameter in parameters:
            schema = parameter["schema"]
            target: dict[str, Any] = schema.get("items", schema)
            if issubclass(filter_field.field_class, forms.IntegerField):
                target["type"] = "integer"
                target.pop("format", None)
            if target.get("type") in ("integer", "number"):
                if extra.get("min_value") is not None:
                    target["minimum"] = extra["min_value"]
                if extra.get("max_value") is not None:
                    target["maximum"] = extra["max_value"]
            if target.get("type") == "string" and extra.get("max_length"):
                target["maxLength"] = extra["max_length"]
            choices = extra.get("choices")
            if callable(choices):
                target["enum"] = sorted(str(value) for value, _ in choices())
            if isinstance(filter_field, django_filters.OrderingFilter):
                target["x-enum-varnames"] = [enum_varname(v) for v in target["enum"]]
                meanings = "; ".join(
                    f"`{value}`: {label}" for value, label in filter_field.extra["choices"]
                )
                parameter["description"] = (
                    f"{filter_field.label}: {meanings}. Several keys, in order, either "
                    "comma-separated (`sort=-evidence,name`) or repeated "
                    "(`sort=-evidence&sort=name`): both mean the same."
                )
        return parameters


def _enum_values(schema: dict) -> frozenset | None:
    if "enum" not in schema:
        return None
    return frozenset(value for value in schema["enum"] if value not in ("", None))


def postprocess_shared_enums(result, generator, **kwargs):
    """A filter whose choices are a model's choice set names that set's component (one
    enum class in a generated client, not one per filter and one per model), after
    drf-spectacular's own enum hook has made the components."""
    schemas = result.get("components", {}).get("schemas", {})
    components: dict[frozenset, str] = {}
    for name, schema in sorted(schemas.items()):
        values = _enum_values(schema)
        if values:
            components.setdefault(values, name)
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") != "query":
                    continue
                holder, key = parameter, "schema"
                if parameter["schema"].get("type") == "array":
                    holder, key = parameter["schema"], "items"
                values = _enum_values(holder[key])
                if values and values in components:
                    holder[key] = {"$ref": f"#/components/schemas/{components[values]}"}
    return result


# A token in either form, or none: what every read anonymous clients may make accepts.
ANONYMOUS_OR_TOKEN = [{"tokenAuth": []}, {"bearerAuth": []}, {}]


def postprocess_security(result, generator, **kwargs):
    """Reads that anonymous clients may make list ``{}`` among their security
    alternatives (curation/viewsets.py ApiSchema.get_auth). They say it through the
    document's default ``security`` rather than each operation's own, which states the
    same thing in OpenAPI; operations needing a token keep their own ``security``.
    openapi-python-client (0.29) asks for an AuthenticatedClient wherever an operation
    lists any security, ``{}`` included (its issue #1372); inherited, the default
    leaves those reads callable with a plain Client, as they are on the server."""
    result["security"] = ANONYMOUS_OR_TOKEN
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("security") == ANONYMOUS_OR_TOKEN:
                del operation["security"]
    return result
