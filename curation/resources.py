"""Which API resource shows which curated model, by the name the router gives it
(its basename: "evidence", "finding", "source", …).

Suggestions name the kind of record they change in the API's words (``kind``), and a
client creates one by naming the resource and the record (``POST /api/v1/suggestions/``).
The router module (mecfs_kb/api.py), the one place that knows every resource, fills
this registry when it is imported, before any API request is served; curation (the
ground floor) so needs to know no domain model or viewset by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from curation.models import Moderated

# basename -> viewset class, for the curated models' resources.
_resources: dict[str, type] = {}


def _model(viewset: type) -> type[models.Model] | None:
    serializer = getattr(viewset, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None)


def api_resources_register(registry: Iterable[tuple[str, type, str]]) -> None:
    """Take the curated models' resources from a DRF router's ``registry``
    (``(prefix, viewset, basename)`` triples)."""
    for _prefix, viewset, basename in registry:
        model = _model(viewset)
        if model is not None and issubclass(model, Moderated):
            _resources[basename] = viewset


def api_resource(kind: str) -> type | None:
    """The viewset of the resource named ``kind``, or None."""
    return _resources.get(kind)


def api_resource_model(kind: str) -> type[Moderated] | None:
    viewset = api_resource(kind)
    return None if viewset is None else _model(viewset)


def api_kind(model: type[models.Model]) -> str:
    """The resource name of ``model``'s records (its model name if it has none)."""
    for basename, viewset in _resources.items():
        if _model(viewset) is model:
            return basename
    return model._meta.model_name


def api_kinds(*, writable: bool = False) -> list[str]:
    """The resource names, sorted; with ``writable``, only those whose records the API
    edits (PATCH), which are those it takes suggestions for."""
    return sorted(
        basename
        for basename, viewset in _resources.items()
        if not writable or hasattr(viewset, "partial_update")
    )


def api_kind_choices() -> list[tuple[str, str]]:
    """For a choice filter: every resource name, labelled with its model's name."""
    return [(kind, str(api_resource_model(kind)._meta.verbose_name)) for kind in api_kinds()]
