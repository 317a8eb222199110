"""The overview's evidence matrix, bounded and computed once per publish (issue 6).

At literature scale the full matrix (1,000 abnormalities by 2,000 therapies) is
neither readable nor cheap: it shows the abnormalities and therapies with the most
published evidence, at most ``MAX_ROWS`` by ``MAX_COLUMNS``, and says how many are not
shown. With fewer than that (the seed), it is the whole matrix.

The pair summary behind it is one grouped query over all published evidence; it is
kept in the shared cache until the next publish (mecfs_kb/cache.py), so readers do
not pay for it on every visit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from findings.models import Abnormality
from mecfs_kb.cache import public_cache_get_or_set
from treatments.models import Therapy, TherapyEvidence

MAX_ROWS = 30
MAX_COLUMNS = 30


@dataclass
class Matrix:
    # Every published abnormality, by name (for "start from an abnormality").
    abnormalities: list[Abnormality]
    # The rows and columns shown, by name.
    rows: list[Abnormality]
    columns: list[Therapy]
    # (abnormality id, therapy id) -> pair summary row (best_level, total, supporting …)
    pairs: dict[tuple[int, int], dict] = field(default_factory=dict)
    hidden_rows: int = 0
    hidden_columns: int = 0


def matrix_build(*, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS) -> Matrix:
    """Three queries: published abnormalities, published therapies, the pair summary."""
    abnormalities = list(Abnormality.objects.published().only("name", "slug"))
    therapies = list(Therapy.objects.published().only("name", "slug"))
    pairs = {
        (row["abnormality_id"], row["therapy_id"]): row
        for row in TherapyEvidence.objects.published()
        .filter(abnormality__isnull=False)
        .pair_summary()
    }
    per_abnormality: Counter[int] = Counter()
    per_therapy: Counter[int] = Counter()
    for (abnormality_id, therapy_id), row in pairs.items():
        per_abnormality[abnormality_id] += row["total"]
        per_therapy[therapy_id] += row["total"]

    def most_evidence(records, counts, limit):
        if len(records) <= limit:
            return records
        # Most evidence first, name to break ties; then shown by name again.
        ranked = sorted(records, key=lambda r: (-counts[r.pk], r.name))[:limit]
        return sorted(ranked, key=lambda r: r.name)

    rows = most_evidence(abnormalities, per_abnormality, max_rows)
    columns = most_evidence(therapies, per_therapy, max_columns)
    shown = {(a.pk, t.pk) for a in rows for t in columns}
    return Matrix(
        abnormalities=abnormalities,
        rows=rows,
        columns=columns,
        pairs={key: row for key, row in pairs.items() if key in shown},
        hidden_rows=len(abnormalities) - len(rows),
        hidden_columns=len(therapies) - len(columns),
    )


def matrix_cached() -> Matrix:
    """The matrix for the current public version: built once per publish."""
    return public_cache_get_or_set("matrix", matrix_build)
