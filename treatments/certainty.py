"""Certainty per abnormality-therapy pair, and per therapy as a whole (issue 12).

GRADE-style, computed from the structured study fields of the published evidence
(findings/models.py, ``EvidenceFields``), so that anyone can recompute a rating from
the fields and read why it is what it is. ``rate`` is the rule book (a pure function
over ``Item`` rows); ``certainty_recompute`` stores its results in ``PairCertainty``
(one query for the evidence of a batch of therapies, one for the overrides, one delete
and one insert), with the counts every page shows beside each rating
(treatments/counts.py, ``count_evidence``); ``certainty_on_change`` recomputes what a
publish, retraction or accepted suggestion touched (registered with ``curation.versions``
in AppConfig.ready).

The rules
=========

What is counted
---------------

====================================================  ==================================
item                                                  counted?
====================================================  ==================================
retracted by an editor                                never (a reason says how many)
its source retracted by the publisher                 never (a reason says how many)
its source's notice awaiting an editor's review       not while it waits
reports no result (direction "describes")             no: nothing to weigh
no structured design recorded                         no: it cannot be placed
otherwise                                             yes, in its design's tier
====================================================  ==================================

Items are grouped into **studies** by source (one paper tied to a pair twice counts
once; its patients once). The rating rests on the studies of the **best tier present**;
items of weaker tiers are listed as not counted.

Where it starts
---------------

===================================================================  ==========
best tier present                                                    starts at
===================================================================  ==========
randomised: RCT, crossover RCT, systematic review / meta-analysis     high
observational or uncontrolled clinical: non-randomised controlled,    low
cohort, case-control, cross-sectional, case series
preclinical: in vitro / ex vivo, animal                               very low
opinion: narrative review, expert opinion, regulatory document,       very low
case report (a contradicted seed-article claim, graded E, is here)
nothing counted                                                       very low, not studied
===================================================================  ==========

Steps down (randomised and observational tiers; at most two per domain)
------------------------------------------------------------------------

Each study gets a score of 0, 1 or 2 in each domain; the domain goes down by the score
that at least half of the weight reaches (weight: patients, when every study reports
them; else one per study), so one small odd study does not decide for the rest.

=================  ==========================================================  =====
domain             a study scores                                               steps
=================  ==========================================================  =====
risk of bias       low                                                          0
                   some concerns, or not assessed (no judgement: no credit)     1
                   high                                                         2
inconsistency      studies point different ways (supports vs does not           1
                   support, or mixed among them)
                   ... and neither side has two thirds of the weight            2
indirectness       patients selected for the abnormality, clinical outcome      0
(a pair)           patients not selected for it (or not reported as selected)   1
                   a surrogate (laboratory) outcome                             +1
                   a rationale link only (neither selected for nor measured)    2
                   another condition (level D with a clinical design)           2
indirectness       a surrogate outcome                                          1
(a therapy)        another condition                                            2
imprecision        under 400 patients in all                                    1
                   under 100 patients in all, or none reported                  2 / 1
                   a 95 % CI that crosses no effect (0 for SMD, MD and r;       +1
                   1 for RR and OR)
=================  ==========================================================  =====

The rating is the start less the steps, never below very low. Nothing steps up: the
fields do not record what GRADE needs for that (a large effect with no plausible
confounding, a dose-response gradient).

Net direction
-------------

From the counted studies, by weight: **benefit** when two thirds or more support,
**no_benefit** when two thirds or more do not, else **uncertain**; **not_studied** when
nothing is counted or only opinion is. **harm** is never computed (the fields do not say
which way an outcome is harmful); an editor may set it in an override, with a reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from curation.models import Status
from findings.models import (
    NO_EFFECT,
    Abnormality,
    Direction,
    Finding,
    Level,
    OutcomeType,
    RiskOfBias,
    Selected,
    Source,
    StudyDesign,
    source_held_q,
)
from treatments.counts import STORED as STORED_COUNTS
from treatments.counts import count_evidence, listed_by_level
from treatments.models import (
    CERTAINTY_ORDER,
    Certainty,
    CertaintyOverride,
    LinkKind,
    NetDirection,
    PairCertainty,
    Therapy,
    TherapyEvidence,
)

RANDOMISED = "randomised"
OBSERVATIONAL = "observational"
PRECLINICAL = "preclinical"
OPINION = "opinion"

TIER_OF: dict[str, str] = {
    StudyDesign.SYSTEMATIC_REVIEW: RANDOMISED,
    StudyDesign.RCT: RANDOMISED,
    StudyDesign.CROSSOVER_RCT: RANDOMISED,
    StudyDesign.NON_RANDOMISED_CONTROLLED: OBSERVATIONAL,
    StudyDesign.COHORT: OBSERVATIONAL,
    StudyDesign.CASE_CONTROL: OBSERVATIONAL,
    StudyDesign.CROSS_SECTIONAL: OBSERVATIONAL,
    StudyDesign.CASE_SERIES: OBSERVATIONAL,
    StudyDesign.IN_VITRO: PRECLINICAL,
    StudyDesign.ANIMAL: PRECLINICAL,
    StudyDesign.NARRATIVE_REVIEW: OPINION,
    StudyDesign.EXPERT_OPINION: OPINION,
    StudyDesign.REGULATORY_DOCUMENT: OPINION,
    StudyDesign.CASE_REPORT: OPINION,
}
TIERS = [RANDOMISED, OBSERVATIONAL, PRECLINICAL, OPINION]  # strongest first
START = {
    RANDOMISED: Certainty.HIGH,
    OBSERVATIONAL: Certainty.LOW,
    PRECLINICAL: Certainty.VERY_LOW,
    OPINION: Certainty.VERY_LOW,
}
STUDY_NOUN = {
    RANDOMISED: ("trial", "trials"),
    OBSERVATIONAL: ("study", "studies"),
    PRECLINICAL: ("laboratory study", "laboratory studies"),
    OPINION: ("item", "items"),
}
# Each design as reasons name it, singular and plural.
DESIGN_NOUN: dict[str, tuple[str, str]] = {
    StudyDesign.SYSTEMATIC_REVIEW: ("systematic review", "systematic reviews"),
    StudyDesign.RCT: ("randomised controlled trial", "randomised controlled trials"),
    StudyDesign.CROSSOVER_RCT: ("randomised crossover trial", "randomised crossover trials"),
    StudyDesign.NON_RANDOMISED_CONTROLLED: (
        "non-randomised controlled study",
        "non-randomised controlled studies",
    ),
    StudyDesign.COHORT: ("cohort or single-arm study", "cohort or single-arm studies"),
    StudyDesign.CASE_CONTROL: ("case-control study", "case-control studies"),
    StudyDesign.CROSS_SECTIONAL: ("cross-sectional study", "cross-sectional studies"),
    StudyDesign.CASE_SERIES: ("case series", "case series"),
    StudyDesign.CASE_REPORT: ("case report", "case reports"),
    StudyDesign.IN_VITRO: ("in vitro or ex vivo study", "in vitro or ex vivo studies"),
    StudyDesign.ANIMAL: ("animal study", "animal studies"),
    StudyDesign.NARRATIVE_REVIEW: ("narrative review", "narrative reviews"),
    StudyDesign.EXPERT_OPINION: ("expert opinion", "expert opinions"),
    StudyDesign.REGULATORY_DOCUMENT: ("regulatory document", "regulatory documents"),
}
MAX_STEPS = 2  # per domain
FEW_PATIENTS = 100  # under this many in all: two steps for imprecision
ENOUGH_PATIENTS = 400  # under this many in all: one step (GRADE's rule of thumb)
MAJORITY = Decimal(2) / 3


@dataclass(frozen=True)
class Item:
    """One evidence item as the rules read it (built from a TherapyEvidence row)."""

    pk: int
    source: int | str
    design: str
    direction: str
    level: str = Level.B
    patients: int | None = None
    link_kind: str = ""
    selected: str = Selected.NOT_REPORTED
    outcome_type: str = OutcomeType.NOT_REPORTED
    effect_measure: str = "none"
    effect_value: Decimal | None = None
    ci_low: Decimal | None = None
    ci_high: Decimal | None = None
    risk_of_bias: str = RiskOfBias.NOT_ASSESSED
    retracted: bool = False  # by an editor (status retracted)
    source_retracted: bool = False  # by the publisher
    held: bool = False  # its source's notice (retraction, concern) awaits an editor
    contradicted: bool = False

    @property
    def tier(self) -> str | None:
        return TIER_OF.get(self.design)

    @property
    def ci_crosses_no_effect(self) -> bool:
        null = NO_EFFECT.get(self.effect_measure)
        if null is None or self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low <= null <= self.ci_high


@dataclass
class Study:
    """The counted items of one source: one study, weighed once."""

    source: int | str
    items: list[Item]

    @property
    def patients(self) -> int | None:
        known = [i.patients for i in self.items if i.patients is not None]
        return max(known) if known else None

    @property
    def direction(self) -> str:
        directions = {i.direction for i in self.items}
        return directions.pop() if len(directions) == 1 else Direction.MIXED

    @property
    def bias_score(self) -> int:
        return max(_BIAS_SCORE[i.risk_of_bias] for i in self.items)

    @property
    def ci_crosses_no_effect(self) -> bool:
        return any(i.ci_crosses_no_effect for i in self.items)


_BIAS_SCORE = {
    RiskOfBias.LOW: 0,
    RiskOfBias.SOME_CONCERNS: 1,
    RiskOfBias.NOT_ASSESSED: 1,
    RiskOfBias.HIGH: 2,
}


@dataclass
class Rating:
    certainty: str
    starting_certainty: str
    net_direction: str
    reasons: list[str]
    what_would_change: str
    items_total: int
    items_counted: int
    studies_counted: int
    participants_counted: int | None
    evidence_counted: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------


def _count(n: int, noun: tuple[str, str]) -> str:
    return f"{n} {noun[0] if n == 1 else noun[1]}"


def _steps(n: int) -> str:
    return "one step" if n == 1 else "two steps"


def _of(n: int, total: int, noun: tuple[str, str]) -> str:
    """ "the only trial", "both trials", "2 of 3 trials"."""
    if total == 1:
        return f"the only {noun[0]}"
    if n == total == 2:
        return f"both {noun[1]}"
    if n == total:
        return f"all {total} {noun[1]}"
    return f"{n} of {total} {noun[1]}"


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------


def _weights(studies: Sequence[Study]) -> list[Decimal]:
    if studies and all(s.patients is not None for s in studies):
        return [Decimal(s.patients) for s in studies]
    return [Decimal(1)] * len(studies)


def _weighted_score(scores: Sequence[int], weights: Sequence[Decimal]) -> int:
    """The highest score that studies holding at least half of the weight reach."""
    total = sum(weights)
    for score in (2, 1):
        if sum(w for s, w in zip(scores, weights, strict=True) if s >= score) * 2 >= total:
            return score
    return 0


def _direction(studies: Sequence[Study], weights: Sequence[Decimal]) -> tuple[str, dict]:
    by: dict[str, Decimal] = defaultdict(Decimal)
    for study, weight in zip(studies, weights, strict=True):
        by[study.direction] += weight
    total = sum(weights)
    if by[Direction.SUPPORTS] >= MAJORITY * total:
        return NetDirection.BENEFIT, by
    if by[Direction.DOES_NOT_SUPPORT] >= MAJORITY * total:
        return NetDirection.NO_BENEFIT, by
    return NetDirection.UNCERTAIN, by


def _indirectness_score(item: Item, abnormality: str | None) -> tuple[int, str]:
    """Score and what makes it indirect (for the reason), for one item."""
    another_condition = item.level == Level.D  # a clinical design graded D
    surrogate = item.outcome_type == OutcomeType.SURROGATE
    if another_condition:
        return 2, "was in another condition"
    if abnormality is None:
        return (1, "measured only a laboratory marker") if surrogate else (0, "")
    if item.link_kind == LinkKind.RATIONALE:
        return 2, f"neither selected patients for {abnormality} nor measured it"
    score, why = 0, []
    if item.selected != Selected.YES and item.link_kind != LinkKind.SELECTED:
        score += 1
        why.append(
            f"did not select patients for {abnormality}"
            if item.selected == Selected.NO
            else f"did not report selecting patients for {abnormality}"
        )
    if surrogate:
        score += 1
        why.append("measured only a laboratory marker")
    return min(score, MAX_STEPS), " and ".join(why)


def rate(items: Iterable[Item], *, abnormality: str | None = None) -> Rating:
    """Rate a body of evidence: the items of one pair (``abnormality`` is its name, for
    the reasons) or of a therapy as a whole (``abnormality`` None)."""
    items = list(items)
    reasons: list[str] = []
    not_counted: Counter[tuple[str, str]] = Counter()
    usable: list[Item] = []
    for item in items:
        if item.retracted:
            not_counted[NOT_COUNTED_RETRACTED] += 1
        elif item.source_retracted:
            not_counted[NOT_COUNTED_SOURCE_RETRACTED] += 1
        elif item.held:
            not_counted[NOT_COUNTED_HELD] += 1
        elif item.direction == Direction.DESCRIBES:
            not_counted[NOT_COUNTED_NO_RESULT] += 1
        elif item.tier is None:
            not_counted[NOT_COUNTED_NO_DESIGN] += 1
        else:
            usable.append(item)
    published = [i for i in items if not i.retracted]

    tier = next((t for t in TIERS if any(i.tier == t for i in usable)), None)
    if tier is None:
        reasons.append("Not studied: no published evidence with a result that can be rated.")
        reasons += _not_counted_reasons(not_counted)
        return Rating(
            certainty=Certainty.VERY_LOW,
            starting_certainty=Certainty.VERY_LOW,
            net_direction=NetDirection.NOT_STUDIED,
            reasons=reasons,
            what_would_change=_what_would_change(None, {}, abnormality),
            items_total=len(published),
            items_counted=0,
            studies_counted=0,
            participants_counted=None,
        )

    body = [i for i in usable if i.tier == tier]
    weaker = len(usable) - len(body)
    by_source: dict[int | str, list[Item]] = defaultdict(list)
    for item in body:
        by_source[item.source].append(item)
    studies = [Study(source=s, items=rows) for s, rows in by_source.items()]
    weights = _weights(studies)
    noun = STUDY_NOUN[tier]
    patients = [s.patients for s in studies if s.patients is not None]
    participants = sum(patients) if patients else None
    start = START[tier]

    designs = Counter(s.items[0].design for s in studies)
    design_words = ", ".join(_count(n, DESIGN_NOUN[design]) for design, n in designs.most_common())
    if tier == RANDOMISED:
        reasons.append(f"Starts at high: {design_words}.")
    elif tier == OBSERVATIONAL:
        reasons.append(
            "Starts at low: no randomised trial; the best evidence is observational or "
            f"uncontrolled ({design_words})."
        )
    elif tier == PRECLINICAL:
        reasons.append(
            f"Very low: only laboratory evidence ({design_words}); no study measured an "
            "effect in patients."
        )
    else:
        reasons.append(f"Very low: only opinion ({design_words}); nothing was studied.")

    if tier == OPINION:
        direction = NetDirection.NOT_STUDIED
        split: dict = {}
    else:
        direction, split = _direction(studies, weights)

    steps: dict[str, int] = {}
    if tier in (RANDOMISED, OBSERVATIONAL):
        steps["risk of bias"] = _risk_of_bias(studies, weights, noun, reasons)
        steps["inconsistency"] = _inconsistency(studies, weights, noun, split, reasons)
        steps["indirectness"] = _indirectness(studies, weights, noun, abnormality, reasons)
        steps["imprecision"] = _imprecision(studies, noun, participants, reasons)
        if not any(steps.values()):
            reasons.append("No step down: low risk of bias, consistent, direct and precise.")
    total_steps = sum(steps.values())
    index = min(CERTAINTY_ORDER.index(start) + total_steps, len(CERTAINTY_ORDER) - 1)
    certainty = CERTAINTY_ORDER[index]
    if total_steps and CERTAINTY_ORDER.index(start) + total_steps > index:
        reasons.append("Very low is the lowest rating: the steps down stop there.")

    contradicted = sum(1 for i in body if i.contradicted)
    if contradicted:
        reasons.append(
            f"{_count(contradicted, ('counted item is', 'counted items are'))} contradicted "
            "by other evidence: see each item."
        )
    if weaker:
        reasons.append(
            f"Not counted: {_count(weaker, ('item', 'items'))} of weaker design; the rating "
            f"rests on the {noun[1] if len(studies) > 1 else noun[0]} above."
        )
    reasons += _not_counted_reasons(not_counted)
    return Rating(
        certainty=certainty,
        starting_certainty=start,
        net_direction=direction,
        reasons=reasons,
        what_would_change=_what_would_change(tier, steps, abnormality),
        items_total=len(published),
        items_counted=len(body),
        studies_counted=len(studies),
        participants_counted=participants,
        evidence_counted=sorted(i.pk for i in body),
    )


NOT_COUNTED_RETRACTED = ("item retracted by an editor", "items retracted by an editor")
NOT_COUNTED_SOURCE_RETRACTED = (
    "item whose source its publisher retracted",
    "items whose sources their publishers retracted",
)
NOT_COUNTED_HELD = (
    "item whose source has a publisher's notice awaiting an editor's review",
    "items whose sources have publishers' notices awaiting an editor's review",
)
NOT_COUNTED_NO_RESULT = (
    "item that reports no result (it only describes)",
    "items that report no result (they only describe)",
)
NOT_COUNTED_NO_DESIGN = (
    "item with no study design recorded",
    "items with no study design recorded",
)


def _not_counted_reasons(not_counted: Counter[tuple[str, str]]) -> list[str]:
    return [f"Not counted: {_count(n, why)}." for why, n in not_counted.items()]


def _risk_of_bias(studies, weights, noun, reasons) -> int:
    scores = [s.bias_score for s in studies]
    steps = _weighted_score(scores, weights)
    if steps:
        labels = Counter(
            RiskOfBias(
                max(s.items, key=lambda i: _BIAS_SCORE[i.risk_of_bias]).risk_of_bias
            ).label.lower()
            for s in studies
        )
        parts = [
            f"{label} for {_of(n, len(studies), noun)}"
            for label, n in labels.most_common()
            if label != "low"
        ]
        reasons.append(f"Down {_steps(steps)} for risk of bias: {'; '.join(parts)}.")
    return steps


def _inconsistency(studies, weights, noun, split, reasons) -> int:
    directions = {s.direction for s in studies}
    if len(studies) < 2 or len(directions) < 2:
        return 0
    total = sum(weights)
    for_, against = split.get(Direction.SUPPORTS, 0), split.get(Direction.DOES_NOT_SUPPORT, 0)
    steps = 1
    if for_ and against and min(for_, against) * 3 >= total:
        steps = 2  # neither side holds two thirds
    counted = Counter(s.direction for s in studies)
    patients_known = all(s.patients is not None for s in studies)
    words = {
        Direction.SUPPORTS: "found benefit",
        Direction.DOES_NOT_SUPPORT: "found none",
        Direction.MIXED: "had mixed results",
    }
    parts = []
    for direction in (Direction.SUPPORTS, Direction.DOES_NOT_SUPPORT, Direction.MIXED):
        n = counted.get(direction)
        if not n:
            continue
        who = _count(n, noun)
        if patients_known:
            people = sum(s.patients for s in studies if s.direction == direction)
            who += f" ({people} patients)"
        parts.append(f"{who} {words[direction]}")
    reasons.append(f"Down {_steps(steps)} for inconsistency: {', '.join(parts)}.")
    return steps


def _indirectness(studies, weights, noun, abnormality, reasons) -> int:
    scored = []
    for study in studies:
        # The most direct of a study's items speaks for it.
        scored.append(min(_indirectness_score(i, abnormality) for i in study.items))
    steps = _weighted_score([score for score, _ in scored], weights)
    if steps:
        whys = Counter(why for score, why in scored if score)
        parts = [f"{_of(n, len(studies), noun)} {why}" for why, n in whys.most_common()]
        reasons.append(f"Down {_steps(steps)} for indirectness: {'; '.join(parts)}.")
    return steps


def _imprecision(studies, noun, participants, reasons) -> int:
    steps, why = 0, []
    if participants is None:
        steps = 1
        why.append(
            f"{'the only' if len(studies) == 1 else 'no'} {noun[0]} "
            f"{'does not report' if len(studies) == 1 else 'reports'} how many took part"
        )
    else:
        unknown = sum(1 for s in studies if s.patients is None)
        if len(studies) == 1:
            said = f"the only {noun[0]} had {participants} participants"
        else:
            said = f"the {len(studies)} {noun[1]} had {participants} participants in all"
            if unknown:
                said += f" ({unknown} not reporting how many)"
        if participants < FEW_PATIENTS:
            steps = 2
            why.append(f"{said} (fewer than {FEW_PATIENTS})")
        elif participants < ENOUGH_PATIENTS:
            steps = 1
            why.append(f"{said} (fewer than {ENOUGH_PATIENTS})")
    crossing = sum(1 for s in studies if s.ci_crosses_no_effect)
    if crossing:
        steps += 1
        why.append(f"the 95 % CI of {_of(crossing, len(studies), noun)} crosses no effect")
    steps = min(steps, MAX_STEPS)
    if steps:
        reasons.append(f"Down {_steps(steps)} for imprecision: {'; '.join(why)}.")
    return steps


def _what_would_change(tier: str | None, steps: dict[str, int], abnormality: str | None) -> str:
    who = f"people with {abnormality}" if abnormality else "people with ME/CFS"
    if tier in (None, OPINION, PRECLINICAL):
        return f"A controlled trial in {who} would be the first clinical evidence."
    if tier == OBSERVATIONAL:
        return f"A randomised controlled trial in {who} would raise it."
    if steps.get("indirectness") and abnormality:
        return f"A trial in patients selected because they have {abnormality} would raise it."
    if steps.get("imprecision"):
        return "Larger trials would raise it."
    if steps.get("risk of bias"):
        return "Assessing (or lowering) the trials' risk of bias would raise it."
    if steps.get("inconsistency"):
        return "Trials that explain why the results differ would raise it."
    return "New trials could still change it, as with any rating."


# ---------------------------------------------------------------------------
# Reading the evidence and storing the ratings
# ---------------------------------------------------------------------------

_ITEM_FIELDS = (
    "pk",
    "therapy_id",
    "abnormality_id",
    "abnormality__name",
    "source_id",
    "source__retracted",
    "status",
    "design",
    "direction",
    "level",
    "patients",
    "link_kind",
    "selected_for_abnormality",
    "outcome_type",
    "effect_measure",
    "effect_value",
    "effect_ci_low",
    "effect_ci_high",
    "risk_of_bias",
    "contradicted",
)
CHUNK = 500  # therapies per batch of queries
# Raised whenever what is stored changes meaning (2: the counts of treatments/counts.py;
# 3: the items listed by level):
# ``certainty_recompute_missing`` (``load_seed``, ``certainty_recompute --missing``)
# rates again every therapy whose rows an older version stored.
RULES_VERSION = 3


def _rows(therapy_ids: Sequence[int]):
    return (
        TherapyEvidence.objects.visible()
        .filter(therapy_id__in=therapy_ids)
        .annotate(
            # Contradicted by published evidence or findings (seed claims are paired so).
            contradicted=Exists(
                TherapyEvidence.objects.published().filter(contradicts=OuterRef("pk"))
            ),
            contradicted_by_finding=Exists(
                Finding.objects.published().filter(contradicts_evidence=OuterRef("pk"))
            ),
            # Counted nowhere while an editor has not reviewed its source's notice
            # (TherapyEvidence.objects.counted()).
            held=ExpressionWrapper(source_held_q("source__"), output_field=BooleanField()),
        )
        .order_by()
        .values(*_ITEM_FIELDS, "contradicted_by_finding", "held")
    )


def _item(row: dict) -> Item:
    return Item(
        pk=row["pk"],
        source=row["source_id"],
        design=row["design"],
        direction=row["direction"],
        level=row["level"],
        patients=row["patients"],
        link_kind=row["link_kind"],
        selected=row["selected_for_abnormality"],
        outcome_type=row["outcome_type"],
        effect_measure=row["effect_measure"],
        effect_value=row["effect_value"],
        ci_low=row["effect_ci_low"],
        ci_high=row["effect_ci_high"],
        risk_of_bias=row["risk_of_bias"],
        retracted=row["status"] == Status.RETRACTED,
        source_retracted=row["source__retracted"],
        held=bool(row["held"]),
        contradicted=bool(row["contradicted"] or row["contradicted_by_finding"]),
    )


@transaction.atomic
def certainty_recompute(*, therapy_ids: Iterable[int] | None = None) -> int:
    """Rate every pair of the given therapies (default: all) and each of them as a
    whole, and store the ratings, replacing theirs. Returns how many were stored."""
    if therapy_ids is None:
        ids = list(Therapy.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(therapy_ids))
    stored = 0
    for start in range(0, len(ids), CHUNK):
        stored += _recompute_chunk(ids[start : start + CHUNK])
    return stored


def _recompute_chunk(ids: list[int]) -> int:
    by_pair: dict[tuple[int, int | None], list[Item]] = defaultdict(list)
    by_therapy: dict[int, list[Item]] = defaultdict(list)
    names: dict[int, str] = {}
    for row in _rows(ids):
        item = _item(row)
        by_therapy[row["therapy_id"]].append(item)
        if row["abnormality_id"] is not None:
            by_pair[row["therapy_id"], row["abnormality_id"]].append(item)
            names[row["abnormality_id"]] = row["abnormality__name"]
    overrides: dict[tuple[int, int | None], CertaintyOverride] = {}
    for override in (
        CertaintyOverride.objects.published()
        .filter(therapy_id__in=ids)
        .select_related("abnormality")
        .order_by("reviewed_at", "pk")
    ):
        overrides[override.therapy_id, override.abnormality_id] = override  # newest wins
        if override.abnormality_id is not None:
            by_pair.setdefault((override.therapy_id, override.abnormality_id), [])
            names[override.abnormality_id] = override.abnormality.name
        else:
            by_therapy.setdefault(override.therapy_id, [])

    rows = []
    for (therapy_id, abnormality_id), items in by_pair.items():
        rating = rate(items, abnormality=names[abnormality_id])
        override = overrides.get((therapy_id, abnormality_id))
        rows.append(_stored(therapy_id, abnormality_id, rating, items, override))
    for therapy_id, items in by_therapy.items():
        rating = rate(items)
        override = overrides.get((therapy_id, None))
        rows.append(_stored(therapy_id, None, rating, items, override))
    PairCertainty.objects.filter(therapy_id__in=ids).delete()
    PairCertainty.objects.bulk_create(rows)
    return len(rows)


def _stored(
    therapy_id: int,
    abnormality_id: int | None,
    rating: Rating,
    items: list[Item],
    override: CertaintyOverride | None,
) -> PairCertainty:
    counts = count_evidence(items)
    return PairCertainty(
        **{f"evidence_{name}": getattr(counts, name) for name in STORED_COUNTS},
        evidence_listed_by_level=listed_by_level(items),
        rules_version=RULES_VERSION,
        therapy_id=therapy_id,
        abnormality_id=abnormality_id,
        certainty=rating.certainty,
        starting_certainty=rating.starting_certainty,
        net_direction=rating.net_direction,
        reasons=rating.reasons,
        what_would_change=rating.what_would_change,
        items_total=rating.items_total,
        items_counted=rating.items_counted,
        studies_counted=rating.studies_counted,
        participants_counted=rating.participants_counted,
        evidence_counted=rating.evidence_counted,
        override=override,
    )


def certainty_recompute_missing() -> int:
    """Rate the therapies that have visible evidence but no stored rating (a database
    migrated from before issue 12, a release just imported), and those with a rating
    stored by an older version of the rules (``RULES_VERSION``)."""
    rated = PairCertainty.objects.filter(therapy=OuterRef("therapy_id"), abnormality=None)
    missing = (
        TherapyEvidence.objects.visible()
        .filter(~Exists(rated))
        .order_by()
        .values_list("therapy_id", flat=True)
        .distinct()
    )
    outdated = (
        PairCertainty.objects.filter(rules_version__lt=RULES_VERSION)
        .order_by()
        .values_list("therapy_id", flat=True)
        .distinct()
    )
    ids = sorted({*missing, *outdated})
    return certainty_recompute(therapy_ids=ids) if ids else 0


# ---------------------------------------------------------------------------
# Keeping them current
# ---------------------------------------------------------------------------


def _therapies_touched(changes) -> set[int]:
    therapy_ids: set[int] = set()
    abnormality_ids: set[int] = set()
    source_ids: set[int] = set()
    for change in changes:
        record = change.record
        if isinstance(record, TherapyEvidence | CertaintyOverride):
            therapy_ids.add(record.therapy_id)
            if "therapy" in change.fields:
                # An accepted suggestion moved it: the pair it left changes too.
                before = record.history.values_list("therapy_id", flat=True)[1:2]
                therapy_ids.update(before)
        elif isinstance(record, Therapy):
            therapy_ids.add(record.pk)
        elif isinstance(record, Abnormality):
            abnormality_ids.add(record.pk)
        elif isinstance(record, Source):
            source_ids.add(record.pk)
        elif isinstance(record, Finding):
            # It may contradict evidence: those evidence items' therapies.
            therapy_ids.update(
                TherapyEvidence.objects.filter(contradicting_findings=record)
                .values_list("therapy_id", flat=True)
                .distinct()
            )
    if abnormality_ids or source_ids:
        therapy_ids.update(
            TherapyEvidence.objects.filter(
                Q(abnormality_id__in=abnormality_ids) | Q(source_id__in=source_ids)
            )
            .order_by()
            .values_list("therapy_id", flat=True)
            .distinct()
        )
    return therapy_ids


def certainty_on_change(changes) -> None:
    """``curation.versions`` calls this with what a publish, retraction, accepted
    suggestion (or a seed load, as one batch) changed: the therapies it touches are
    rated again, in the same transaction."""
    therapy_ids = _therapies_touched(changes)
    if therapy_ids:
        certainty_recompute(therapy_ids=therapy_ids)
