"""Per-therapy summaries of published evidence, kept until the next publish (issue 6).

Every therapy list (API, pages, exports) shows, for each therapy on the page, the
abnormalities its published evidence ties it to with the strongest level and the
counts. They are read from the stored ratings (``PairCertainty``: the counts of
treatments/counts.py, stored on publish beside the certainty), one query for the whole
page; the same therapies appear on many pages and filters, so each therapy's summary
is also kept in the shared cache under the public version (curation/cache.py), then
read with one MGET.

A summary row is a ``StoredPair``: the stored columns as the database gives them, in a
tuple. A list page of therapies at scale holds a thousand of them (one per abnormality
of each therapy), and each used to become a dict, then an ``EvidenceCounts``, then a
copy for the API: four objects a row, made per request with every cache off, and,
being reachable from the request's reference cycles (DRF's serializers and response,
the view and its request), freed only by the next full garbage collection, which then
walked every one (issue 14: every tenth list request paid 30 ms for it at 500,000 items).
A tuple of strings and numbers is made once and is not even tracked by the collector.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Collate, NullIf

from curation.cache import public_cache_key, public_cache_version
from curation.statements import template_rows
from treatments.counts import STORED, EvidenceCounts
from treatments.models import PairCertainty


class StoredPair(NamedTuple):
    """One stored rating's summary (the columns of ``SUMMARY_FIELDS``, in their order):
    a pair of a therapy and an abnormality, or the therapy as a whole (``abnormality_id``
    None: all its evidence, general evidence included). It reads like
    ``EvidenceCounts`` (``supporting`` … ``controlled_studies``, ``total``), so the
    counts' representation takes either."""

    therapy_id: int
    abnormality_id: int | None
    abnormality_slug: str | None
    abnormality_name: str | None
    # Items listed (held ones too), as stored (``items_total``).
    listed: int
    computed_certainty: str
    computed_net_direction: str
    override_certainty: str | None
    override_net_direction: str | None
    # The stored counts, in the order of treatments/counts.py STORED (checked below).
    supporting: int
    not_supporting: int
    other: int
    contested: int
    held: int
    best_level: str
    best_direction: str
    studies: int
    clinical_studies: int
    controlled_studies: int

    @property
    def total(self) -> int:
        """Counted items: for + against + other (held items apart)."""
        return self.supporting + self.not_supporting + self.other

    @property
    def certainty(self) -> str | None:
        """As readers are shown it: an editor's override first."""
        return self.override_certainty or self.computed_certainty

    @property
    def net_direction(self) -> str | None:
        return self.override_net_direction or self.computed_net_direction

    @property
    def counts(self) -> EvidenceCounts:
        return EvidenceCounts(*self[_COUNTS_FROM:])

    def sort_key(self) -> tuple:
        # The therapy as a whole last; then strongest level, then name (as PostgreSQL's
        # "C" collation orders it: by code point), then id.
        return (
            self.abnormality_id is None,
            self.best_level,
            self.abnormality_name or "",
            self.abnormality_id or 0,
        )


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
_COUNTS_FROM = StoredPair._fields.index("supporting")
if StoredPair._fields[_COUNTS_FROM:] != STORED or len(StoredPair._fields) != len(SUMMARY_FIELDS):
    raise ImportError("StoredPair must list SUMMARY_FIELDS, the counts in STORED's order")


def stored_pairs(rows: Iterable[tuple]) -> list[StoredPair]:
    """``values_list(*SUMMARY_FIELDS)`` rows as ``StoredPair``s."""
    return list(map(StoredPair._make, rows))


def _per_therapy(name: str, therapy_ids: Iterable[int], compute) -> dict:
    """``compute(ids)`` (a dict by therapy id, one entry for each id) for each therapy
    id, each kept in the shared cache under the public version and ``name`` until the
    next publish: one MGET, then ``compute`` for the ones missing, if any."""
    ids = list(dict.fromkeys(therapy_ids))
    found: dict = {}
    caching = settings.PUBLIC_CACHE_SECONDS > 0 and ids
    keys: dict[int, str] = {}
    if caching:
        version = public_cache_version()
        keys = {pk: public_cache_key(name, pk, version=version) for pk in ids}
        cached = cache.get_many(keys.values())
        found = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        computed = compute(missing)
        found.update(computed)
        if caching:
            cache.set_many(
                {keys[pk]: computed[pk] for pk in missing}, timeout=settings.PUBLIC_CACHE_SECONDS
            )
    return found


def _counted_pairs(therapies):
    """The stored rows readers may see of ``therapies``, counted evidence only: a pair of
    held or retracted items alone is no tie."""
    return (
        PairCertainty.objects.public()
        .filter(therapy_id__in=therapies)
        .exclude(evidence_best_level="")
        .order_by()
    )


def _read_pair_summaries(missing: list[int]) -> dict[int, list[StoredPair]]:
    computed: dict[int, list[StoredPair]] = {pk: [] for pk in missing}

    def build(therapies):
        return _counted_pairs(therapies).values_list(*SUMMARY_FIELDS)

    # The same statement for every page of as many therapies: compiled once.
    alias = PairCertainty.objects.db
    rows = template_rows(("pair_summaries",), build, missing, alias)
    for pair in stored_pairs(build(missing) if rows is None else rows):
        computed[pair.therapy_id].append(pair)
    for summary in computed.values():
        summary.sort(key=StoredPair.sort_key)
    return computed


def pair_summaries(therapy_ids: Iterable[int]) -> dict[int, list[StoredPair]]:
    """For each therapy id: one ``StoredPair`` per abnormality its counted evidence
    names, strongest first, then one for the therapy as a whole (``abnormality_id``
    None: all its evidence, general evidence included). At most one query (none when
    every therapy's summary is cached)."""
    return _per_therapy("stored-pairs", therapy_ids, _read_pair_summaries)


class PairsAsJSON(NamedTuple):
    """One therapy's summary as the API shows it: its counts as a whole, and the JSON
    text of its abnormalities' list (``TherapyAbnormalitySerializer``'s representation
    of its ``StoredPair``s, in their order)."""

    counts: EvidenceCounts
    abnormalities: str


def _shown(name: str) -> Coalesce:
    # As readers are shown it (StoredPair.certainty): an editor's override first.
    return Coalesce(NullIf(F(f"override__{name}"), Value("")), F(name))


def _pairs_as_json_rows(therapies, alias: str):
    # In StoredPair.sort_key's order, names by code point as Python compares them
    # (PostgreSQL's "C" collation; SQLite's own compares the bytes of UTF-8 alike).
    name = F("abnormality__name")
    if connections[alias].vendor == "postgresql":
        name = Collate("abnormality__name", "C")
    return (
        _counted_pairs(therapies)
        .order_by("therapy_id", "evidence_best_level", name, "abnormality_id")
        .values_list(
            "therapy_id",
            "abnormality_id",
            "abnormality__slug",
            "abnormality__name",
            "counts_json",
            _shown("certainty"),
            _shown("net_direction"),
        )
    )


def _text(value) -> str:
    return orjson.dumps(value).decode()


def _read_pairs_as_json(missing: list[int]) -> dict[int, PairsAsJSON]:
    alias = PairCertainty.objects.db
    rows = template_rows(
        ("pairs as json",), lambda ids: _pairs_as_json_rows(ids, alias), missing, alias
    )
    if rows is None:
        rows = _pairs_as_json_rows(missing, alias)
    pairs: dict[int, list[str]] = {pk: [] for pk in missing}
    wholes: dict[int, EvidenceCounts] = {}
    for therapy_id, abnormality_id, slug, name, counts_json, certainty, direction in rows:
        if abnormality_id is None:
            # The therapy as a whole: its counts, read back from the members the database
            # wrote from them (the same columns, every one of them under "counts").
            counts = orjson.loads("{" + counts_json + "}")["counts"]
            wholes[therapy_id] = EvidenceCounts(
                **{field: counts[_COUNTS_KEYS.get(field, field)] for field in STORED}
            )
        else:
            # TherapyAbnormalitySerializer.to_representation, as orjson writes it.
            pairs[therapy_id].append(
                f'{{"slug":{_text(slug)},"name":{_text(name)},{counts_json},'
                f'"certainty":{_text(certainty)},"net_direction":{_text(direction)}}}'
            )
    return {
        pk: PairsAsJSON(wholes.get(pk, EvidenceCounts()), "[" + ",".join(pairs[pk]) + "]")
        for pk in missing
    }


# The counts' keys as the API names them, where not as EvidenceCounts does.
_COUNTS_KEYS = {"best_direction": "best_level_direction"}


def pairs_as_json(therapy_ids: Iterable[int]) -> dict[int, PairsAsJSON]:
    """For each therapy id, its summary as the API shows it (``PairsAsJSON``): each
    pair's object written from its row's ``counts_json`` (the members the database keeps
    from its counts) and its abnormality's slug and name, without a dict made per pair
    (issue 14: representing a thousand of them a page was a fifth of a therapy list's
    time). The rows ``pair_summaries`` reads, in its order, in one query; none when every
    therapy's summary is cached."""
    return _per_therapy("pairs-json", therapy_ids, _read_pairs_as_json)


def whole(pairs: list[StoredPair]) -> EvidenceCounts:
    """The counts of the therapy as a whole, from its summary."""
    return next((pair.counts for pair in pairs if pair.abnormality_id is None), EvidenceCounts())


def attach_evidence_counts(therapies: Iterable, summaries: dict[int, list[StoredPair]]) -> None:
    """Set ``counts`` (an EvidenceCounts over all its evidence) and, from it,
    ``supporting`` and ``not_supporting`` on each therapy, from its summary."""
    for therapy in therapies:
        set_counts(therapy, whole(summaries.get(therapy.pk, [])))


def set_counts(therapy, counts: EvidenceCounts) -> None:
    """Set ``counts`` on ``therapy``, and ``supporting`` and ``not_supporting`` from it."""
    therapy.counts = counts
    therapy.supporting = counts.supporting
    therapy.not_supporting = counts.not_supporting
