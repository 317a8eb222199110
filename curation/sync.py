"""Incremental sync: the list filter backend that keeps the list's FilterSet, and the
tombstones a sync client is given (``updated_since`` / ``since_version``, the
``SyncFilterSet`` of curation/filters.py).

A tombstone is a record a copy may hold that readers can no longer see: it was
published once (a data version added it), it changed since what the request names, and
it is not published now — retracted by an editor (``status: retracted``, with when and
why), or resting on a record that was (``status: withdrawn``). It carries the record's
``id`` (and ``slug``) and nothing of its content, so a mirror can drop it.

Named in settings.REST_FRAMEWORK: like curation/rest.py it must not import DRF's views.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django_filters.rest_framework import DjangoFilterBackend

from curation.models import DataChange, Moderated, Status, content_of


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, keeping the FilterSet on the view (``view.filterset``)
    so the list can ask it for tombstones without validating the parameters again."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        view.filterset = filterset
        return filterset


def sync_tombstones(filterset) -> list[dict[str, Any]] | None:
    """The tombstones for a sync request (None when the request is not one, or the list
    is not of curated records). One query."""
    changed_since = getattr(filterset, "changed_since", None)
    if changed_since is None or not filterset.is_bound or filterset.errors:
        return None
    changed = changed_since()
    model = filterset._meta.model
    if changed is None or not issubclass(model, Moderated):
        return None
    records = model._default_manager
    ever_published = Exists(DataChange.objects.filter(content_of(model), object_id=OuterRef("pk")))
    fields = ["pk", "status", "reviewed_at", "review_note"]
    has_slug = any(f.name == "slug" for f in model._meta.fields)
    if has_slug:
        fields.append("slug")
    gone = (
        records.filter(changed)
        .filter(ever_published)
        .exclude(pk__in=records.published().values("pk"))
        .only(*fields)
        .order_by("pk")
    )
    return [tombstone(record, has_slug=has_slug) for record in gone]


def tombstone(record: Moderated, *, has_slug: bool) -> dict[str, Any]:
    retracted = record.status == Status.RETRACTED
    return {
        "id": record.pk,
        "slug": record.slug if has_slug else None,
        "tombstone": True,
        "status": "retracted" if retracted else "withdrawn",
        "retracted_at": record.reviewed_at if retracted else None,
        "reason": record.review_note if retracted else "",
    }


TOMBSTONE_SCHEMA = {
    "type": "object",
    "description": "A record a copy may hold that readers can no longer see: drop it.",
    "properties": {
        "id": {"type": "integer"},
        "slug": {
            "type": "string",
            "nullable": True,
            "description": "For resources read by slug (therapies, abnormalities, lab tests).",
        },
        "tombstone": {"type": "boolean", "enum": [True]},
        "status": {
            "type": "string",
            "enum": ["retracted", "withdrawn"],
            "description": "`retracted`: an editor withdrew it (`retracted_at`, `reason`); "
            "`withdrawn`: a record it rests on (its source, therapy …) is no longer public.",
        },
        "retracted_at": {"type": "string", "format": "date-time", "nullable": True},
        "reason": {"type": "string"},
    },
    "required": ["id", "slug", "tombstone", "status", "retracted_at", "reason"],
}
