"""Per-therapy summaries of published evidence, kept until the next publish (issue 6).

Every therapy list (API, pages, exports) shows, for each therapy on the page, the
abnormalities its published evidence ties it to with the best level and counts: one
grouped query over all of those therapies' evidence. At literature scale a popular
therapy has tens of thousands of items, and the same therapies appear on many pages
and filters, so each therapy's summary is kept in the shared cache under the public
version (curation/cache.py): computed once per publish, then read with one MGET.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db.models import F

from curation.cache import public_cache_key, public_cache_version
from treatments.models import TherapyEvidence


def _strongest_first(row: dict) -> tuple:
    # General evidence (no abnormality) last; then strongest level, then name.
    return (row["abnormality_id"] is None, row["best_level"], row["abnormality_name"] or "")


def pair_summaries(therapy_ids: Iterable[int]) -> dict[int, list[dict]]:
    """For each therapy id: one row per abnormality its published evidence names
    (``abnormality_id`` None for evidence about ME/CFS generally), strongest first.

    Each row: therapy_id, abnormality_id, abnormality_slug, abnormality_name,
    best_level, total, supporting, not_supporting. At most one query (none when every
    therapy's summary is cached).
    """
    ids = list(dict.fromkeys(therapy_ids))
    found: dict[int, list[dict]] = {}
    caching = settings.PUBLIC_CACHE_SECONDS > 0 and ids
    keys: dict[int, str] = {}
    if caching:
        version = public_cache_version()
        keys = {pk: public_cache_key("pairs", pk, version=version) for pk in ids}
        cached = cache.get_many(keys.values())
        found = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        computed: dict[int, list[dict]] = {pk: [] for pk in missing}
        rows = (
            TherapyEvidence.objects.counted()
            .filter(therapy_id__in=missing)
            .pair_summary()
            .annotate(
                abnormality_slug=F("abnormality__slug"), abnormality_name=F("abnormality__name")
            )
        )
        for row in rows:
            computed[row["therapy_id"]].append(row)
        for summary in computed.values():
            summary.sort(key=_strongest_first)
        found.update(computed)
        if caching:
            cache.set_many(
                {keys[pk]: computed[pk] for pk in missing}, timeout=settings.PUBLIC_CACHE_SECONDS
            )
    return found


def attach_evidence_counts(therapies: Iterable, summaries: dict[int, list[dict]]) -> None:
    """Set ``supporting`` and ``not_supporting`` on each therapy from its summary (the
    same numbers ``with_evidence_summary()`` counts in SQL: the pairs, general evidence
    included, partition its published evidence)."""
    for therapy in therapies:
        rows = summaries.get(therapy.pk, [])
        therapy.supporting = sum(row["supporting"] for row in rows)
        therapy.not_supporting = sum(row["not_supporting"] for row in rows)
