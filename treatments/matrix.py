"""The overview's evidence matrix, bounded and computed once per publish (issue 6).

At literature scale the full matrix (1,000 abnormalities by 2,000 therapies) is
neither readable nor cheap: it shows the most-connected abnormalities and therapies
(those in the most pairs), at most ``MAX_ROWS`` by ``MAX_COLUMNS``, and says how many
are not shown. With fewer than that (the seed), it is the whole matrix.

Each cell reads the stored counts and certainty of its pair (``PairCertainty``, written
on publish by treatments/certainty.py with treatments/counts.py): the same numbers as
every other page. The matrix is kept in the shared cache until the next publish
(curation/cache.py), so readers do not pay for it on every visit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count

from curation.cache import public_cache_get_or_set
from curation.statements import template_list, template_rows
from findings.models import Abnormality
from treatments.models import PairCertainty, Therapy
from treatments.summaries import SUMMARY_FIELDS, StoredPair, stored_pairs

# 20 by 20 cells (about 200 kB of accessible HTML) is as much as a reader can scan.
MAX_ROWS = 20
MAX_COLUMNS = 20
# Named for what it holds: a matrix an older release kept (its pairs as dicts) is never
# read back as one of StoredPairs.
CACHE_NAME = "matrix-of-stored-pairs"


@dataclass
class Matrix:
    # Every published abnormality, by name (for "start from an abnormality").
    abnormalities: list[Abnormality]
    # The rows and columns shown, most-connected first.
    rows: list[Abnormality]
    columns: list[Therapy]
    # (abnormality id, therapy id) -> the pair's stored summary (treatments/summaries.py:
    # counts, best_level, certainty …)
    pairs: dict[tuple[int, int], StoredPair] = field(default_factory=dict)
    # (abnormality id, therapy id) -> (certainty, net direction) readers are shown: an
    # editor's override, else the stored computed rating (treatments/certainty.py).
    certainties: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    hidden_rows: int = 0
    hidden_columns: int = 0


def _stored():
    """The stored pairs a cell shows: published therapy and abnormality, counted
    evidence."""
    return PairCertainty.objects.public().pairs().exclude(evidence_best_level="").order_by()


def matrix_build(*, max_rows: int | None = None, max_columns: int | None = None) -> Matrix:
    """Five queries: published abnormalities, published therapies, how many pairs each
    abnormality and each therapy is in (counted by the database, not read pair by pair:
    at scale the matrix shows a few hundred of a great many), then the stored counts and
    certainty of the pairs shown."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    max_columns = MAX_COLUMNS if max_columns is None else max_columns
    # Each a statement compiled once (curation/statements.py): with every cache off the
    # matrix is built per request, and building the SQL cost as much as running it.
    alias = PairCertainty.objects.db
    abnormalities = template_list(
        ("matrix", "abnormalities"),
        lambda _: Abnormality.objects.published().only("name", "slug"),
        [],
        alias,
    )
    therapies = template_list(
        ("matrix", "therapies"),
        lambda _: Therapy.objects.published().only("name", "slug"),
        [],
        alias,
    )

    def pairs_per(column: str) -> Counter:
        def build(_):
            return _stored().values_list(column).annotate(n=Count("pk"))

        rows = template_rows(("matrix", "pairs per", column), build, [], alias)
        return Counter(dict(build([]) if rows is None else rows))

    # Most-connected first (the most pairs), so that a phone's first screen of the
    # matrix shows filled cells; records with as many pairs keep their name order.
    per_abnormality = pairs_per("abnormality_id")
    per_therapy = pairs_per("therapy_id")
    rows = sorted(abnormalities, key=lambda a: -per_abnormality[a.pk])[:max_rows]
    columns = sorted(therapies, key=lambda t: -per_therapy[t.pk])[:max_columns]
    shown = len(rows)

    def stored(keys):
        return (
            _stored()
            .filter(abnormality_id__in=keys[:shown], therapy_id__in=keys[shown:])
            .values_list(*SUMMARY_FIELDS)
        )

    keys = [*(a.pk for a in rows), *(t.pk for t in columns)]
    found = template_rows(("matrix", "pairs", shown), stored, keys, alias)
    shown_pairs = {
        (pair.abnormality_id, pair.therapy_id): pair
        for pair in stored_pairs(stored(keys) if found is None else found)
    }
    return Matrix(
        certainties={
            key: (pair.certainty, pair.net_direction) for key, pair in shown_pairs.items()
        },
        abnormalities=abnormalities,
        rows=rows,
        columns=columns,
        pairs=shown_pairs,
        hidden_rows=len(abnormalities) - len(rows),
        hidden_columns=len(therapies) - len(columns),
    )


def matrix_cached() -> Matrix:
    """The matrix for the current public version: built once per publish."""
    return public_cache_get_or_set(CACHE_NAME, matrix_build)
