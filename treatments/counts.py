"""One count per pair (issue 18): how many published evidence items about an
abnormality-therapy pair (or a therapy as a whole) are for, against or other, its
strongest level and which way that level points, and how many studies looked at it.

``count_evidence`` is the only code that counts; ``treatments/certainty.py`` calls it
beside the rating, on every publish, retraction and accepted suggestion, and stores the
result in ``PairCertainty``. Every surface (the matrix, the abnormality, therapy, pair
and search pages, the therapy browser, the API, the downloads and the gap map) reads
those stored numbers, so the same pair shows the same numbers everywhere.

Where an item goes
==================

=========================================================  =====================
a published item                                           counts as
=========================================================  =====================
retracted by an editor                                     nothing (not published)
its source's notice awaits an editor's review ("held")     ``held``: listed, in no
                                                           count, level or study
contradicted by published evidence or a finding, or its    ``other``, and in
source retracted by its publisher                          ``contested``
supports                                                   ``for``
does not support                                           ``against``
mixed results, or describes only                           ``other``
=========================================================  =====================

So a contradicted or publisher-retracted item is never "for" (nor "against"): its way
is disputed. ``total`` = for + against + other (held items apart).

The **strongest level** is the lowest letter among the counted items (held ones left
out), and it is never shown without its direction: the way its items point
(``LevelDirection``): for, against, mixed (they point different ways, or report mixed
results), neither (they only describe) or contested (contradicted, or the source
retracted).

A **study** is a distinct source of a counted item (neither held nor from a retracted
source) with a study design (``STUDY_DESIGNS``: trials, observational and laboratory
studies; not case reports, reviews, opinions or regulatory documents). A **clinical
study** is one done in people (not in vitro or animal); a **controlled study** one with
a control group (``CONTROLLED_DESIGNS``). The gap map (treatments/gaps.py) reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.db import models

from findings.models import Direction, StudyDesign

CONTROLLED_DESIGNS = [
    StudyDesign.SYSTEMATIC_REVIEW,
    StudyDesign.RCT,
    StudyDesign.CROSSOVER_RCT,
    StudyDesign.NON_RANDOMISED_CONTROLLED,
]
CLINICAL_DESIGNS = [
    *CONTROLLED_DESIGNS,
    StudyDesign.COHORT,
    StudyDesign.CASE_CONTROL,
    StudyDesign.CROSS_SECTIONAL,
    StudyDesign.CASE_SERIES,
]
LABORATORY_DESIGNS = [StudyDesign.IN_VITRO, StudyDesign.ANIMAL]
STUDY_DESIGNS = [*CLINICAL_DESIGNS, *LABORATORY_DESIGNS]


class LevelDirection(models.TextChoices):
    """Which way the items at the strongest level point (shown beside the letter)."""

    FOR = "for", "for"
    AGAINST = "against", "against"
    MIXED = "mixed", "mixed"
    NEITHER = "neither", "neither"
    CONTESTED = "contested", "contested"


_DIRECTION_LABELS = dict(LevelDirection.choices)

# What each shows beside the letter, for readers who need the longer words.
LEVEL_DIRECTION_MEANING = {
    LevelDirection.FOR: "the strongest items support it",
    LevelDirection.AGAINST: "the strongest items do not support it",
    LevelDirection.MIXED: "the strongest items point different ways or report mixed results",
    LevelDirection.NEITHER: "the strongest items only describe, for neither side",
    LevelDirection.CONTESTED: "the strongest items are contradicted by other evidence, or "
    "their source was retracted",
}


class Countable(Protocol):
    """What counting reads of an item (treatments.certainty.Item has it all)."""

    source: int | str
    design: str
    direction: str
    level: str
    retracted: bool
    source_retracted: bool
    held: bool
    contradicted: bool


@dataclass(frozen=True)
class EvidenceCounts:
    """The stored numbers of one pair (or therapy as a whole), as every surface shows
    them. Built by ``count_evidence``; read back with ``EvidenceCounts.of(rating)``."""

    supporting: int = 0
    not_supporting: int = 0
    other: int = 0
    contested: int = 0
    held: int = 0
    best_level: str = ""
    best_direction: str = ""
    studies: int = 0
    clinical_studies: int = 0
    controlled_studies: int = 0

    @property
    def total(self) -> int:
        """Counted items: for + against + other (held items apart)."""
        return self.supporting + self.not_supporting + self.other

    @property
    def best_direction_label(self) -> str:
        return direction_label(self.best_direction)

    @property
    def best_direction_meaning(self) -> str:
        return LEVEL_DIRECTION_MEANING.get(self.best_direction, "")

    @property
    def words(self) -> str:
        """'1 for · 0 against · 1 other (1 contested)': the line every page shows."""
        return counts_words(self)

    @classmethod
    def of(cls, stored) -> EvidenceCounts:
        """From a stored rating (PairCertainty) or a dict of its fields."""
        # Read a thousand times per list page: the columns in the fields' order, by
        # position (STORED lists them in that order).
        if isinstance(stored, dict):
            return cls(*[stored.get(column) for column in STORED_COLUMNS])
        return cls(*[getattr(stored, column) for column in STORED_COLUMNS])


def direction_label(direction: str) -> str:
    """'For', 'Against', 'Contested' … of a level's direction; empty for none."""
    # A lookup, not an enum made per call: an export has a line per pair.
    return _DIRECTION_LABELS[direction] if direction else ""


def counts_words(counts) -> str:
    """``EvidenceCounts.words`` of anything that reads like one (a stored pair,
    treatments/summaries.py), without making one: an export has a line per pair."""
    line = f"{counts.supporting} for · {counts.not_supporting} against · {counts.other} other"
    if counts.contested:
        line += f" ({counts.contested} contested)"
    return line


# EvidenceCounts field -> PairCertainty column (``evidence_<name>``).
STORED = (
    "supporting",
    "not_supporting",
    "other",
    "contested",
    "held",
    "best_level",
    "best_direction",
    "studies",
    "clinical_studies",
    "controlled_studies",
)
STORED_COLUMNS = tuple(f"evidence_{name}" for name in STORED)


def _way(item: Countable) -> str:
    if is_contested(item):
        return LevelDirection.CONTESTED
    return {
        Direction.SUPPORTS: LevelDirection.FOR,
        Direction.DOES_NOT_SUPPORT: LevelDirection.AGAINST,
        Direction.MIXED: LevelDirection.MIXED,
    }.get(item.direction, LevelDirection.NEITHER)


BUCKET = {
    LevelDirection.FOR: "for",
    LevelDirection.AGAINST: "against",
    LevelDirection.MIXED: "other",
    LevelDirection.NEITHER: "other",
    LevelDirection.CONTESTED: "other",
}


def counted_as(item: Countable) -> str:
    """Where one item counts: 'for', 'against', 'other', 'held' or 'retracted' (the
    table above; ``is_contested`` says whether an 'other' item is contested)."""
    if item.retracted:
        return "retracted"
    if item.held:
        return "held"
    return BUCKET[_way(item)]


def listed_by_level(items: Iterable[Countable]) -> dict[str, int]:
    """How many of ``items`` a list shows at each level: every one but the retracted,
    held ones too (a list shows them, flagged). Stored beside the counts, so that a
    reader's list filtered by level (``?level=B``: A or B) is counted from it
    (treatments/api.py ``stored_count``) instead of row by row."""
    listed: dict[str, int] = {}
    for item in items:
        if counted_as(item) != "retracted":
            listed[item.level] = listed.get(item.level, 0) + 1
    return dict(sorted(listed.items()))


def is_contested(item: Countable) -> bool:
    return bool(item.contradicted or item.source_retracted)


def count_evidence(items: Iterable[Countable]) -> EvidenceCounts:
    """Count a body of evidence by the rules in the module's docstring."""
    ways: dict[str, int] = dict.fromkeys(LevelDirection.values, 0)
    held = 0
    counted: list[tuple[Countable, str]] = []
    for item in items:
        bucket = counted_as(item)
        if bucket == "retracted":
            continue
        if bucket == "held":
            held += 1
            continue
        way = _way(item)
        ways[way] += 1
        counted.append((item, way))
    best_level, best_direction = "", ""
    if counted:
        best_level = min(item.level for item, _ in counted)
        at_best = {way for item, way in counted if item.level == best_level}
        best_direction = at_best.pop() if len(at_best) == 1 else LevelDirection.MIXED
    studied = [item for item, _ in counted if not item.source_retracted]

    def sources(designs) -> int:
        return len({item.source for item in studied if item.design in designs})

    return EvidenceCounts(
        supporting=ways[LevelDirection.FOR],
        not_supporting=ways[LevelDirection.AGAINST],
        other=ways[LevelDirection.MIXED]
        + ways[LevelDirection.NEITHER]
        + ways[LevelDirection.CONTESTED],
        contested=ways[LevelDirection.CONTESTED],
        held=held,
        best_level=best_level,
        best_direction=best_direction,
        studies=sources(STUDY_DESIGNS),
        clinical_studies=sources(CLINICAL_DESIGNS),
        controlled_studies=sources(CONTROLLED_DESIGNS),
    )
