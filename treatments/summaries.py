"""Per-therapy summaries of published evidence, kept until the next publish (issue 6).

Every therapy list (API, pages, exports) shows, for each therapy on the page, the
abnormalities its published evidence ties it to with the strongest level and the
counts. They are read from the stored ratings (``PairCertainty``: the counts of
treatments/counts.py, stored on publish beside the certainty), one query for the whole
page; the same therapies appear on many pages and filters, so each therapy's summary
is also kept in the shared cache under the public version (curation/cache.py), then
read with one MGET.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from curation.cache import public_cache_key, public_cache_version
from curation.statements import template_dicts
from treatments.counts import STORED, EvidenceCounts
from treatments.models import PairCertainty


def _strongest_first(row: dict) -> tuple:
    # The therapy as a whole last; then strongest level, then name.
    return (row["abnormality_id"] is None, row["best_level"], row["abnormality_name"] or "")


def summary_row(rating: dict) -> dict:
    """One stored rating (``values()`` of SUMMARY_FIELDS) as a summary row."""
    counts = EvidenceCounts.of(rating)
    return {
        "therapy_id": rating["therapy_id"],
        "abnormality_id": rating["abnormality_id"],
        "abnormality_slug": rating["abnormality__slug"],
        "abnormality_name": rating["abnormality__name"],
        "counts": counts,
        "best_level": counts.best_level,
        "best_direction": counts.best_direction,
        "total": counts.total,
        "supporting": counts.supporting,
        "not_supporting": counts.not_supporting,
        "other": counts.other,
        "listed": rating["items_total"],
        # As readers are shown them: an editor's override first.
        "certainty": rating["override__certainty"] or rating["certainty"],
        "net_direction": rating["override__net_direction"] or rating["net_direction"],
    }


SUMMARY_FIELDS = (
    "therapy_id",
    "abnormality_id",
    "abnormality__slug",
    "abnormality__name",
    "items_total",
    "certainty",
    "net_direction",
    "override__certainty",
    "override__net_direction",
    *(f"evidence_{name}" for name in STORED),
)


def pair_summaries(therapy_ids: Iterable[int]) -> dict[int, list[dict]]:
    """For each therapy id: one row per abnormality its counted evidence names,
    strongest first, then one row for the therapy as a whole (``abnormality_id`` None:
    all its evidence, general evidence included).

    Each row: therapy_id, abnormality_id, abnormality_slug, abnormality_name, counts
    (an ``EvidenceCounts``), best_level, best_direction, total, supporting,
    not_supporting, other, listed, certainty, net_direction. At most one query (none
    when every therapy's summary is cached).
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

        def build(therapies):
            return (
                PairCertainty.objects.public()
                .filter(therapy_id__in=therapies)
                # Counted evidence only: a pair of held or retracted items alone is no tie.
                .exclude(evidence_best_level="")
                .order_by()
                .values(*SUMMARY_FIELDS)
            )

        # The same statement for every page of as many therapies: compiled once.
        alias = PairCertainty.objects.db
        rows = template_dicts(("pair_summaries",), build, missing, alias)
        for row in build(missing) if rows is None else rows:
            computed[row["therapy_id"]].append(summary_row(row))
        for summary in computed.values():
            summary.sort(key=_strongest_first)
        found.update(computed)
        if caching:
            cache.set_many(
                {keys[pk]: computed[pk] for pk in missing}, timeout=settings.PUBLIC_CACHE_SECONDS
            )
    return found


def whole(rows: list[dict]) -> EvidenceCounts:
    """The counts of the therapy as a whole, from its summary rows."""
    return next((row["counts"] for row in rows if row["abnormality_id"] is None), EvidenceCounts())


def attach_evidence_counts(therapies: Iterable, summaries: dict[int, list[dict]]) -> None:
    """Set ``counts`` (an EvidenceCounts over all its evidence) and, from it,
    ``supporting`` and ``not_supporting`` on each therapy, from its summary."""
    for therapy in therapies:
        therapy.counts = whole(summaries.get(therapy.pk, []))
        therapy.supporting = therapy.counts.supporting
        therapy.not_supporting = therapy.counts.not_supporting
