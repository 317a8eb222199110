"""The evidence-gap map (issue 12): for each rated abnormality-therapy pair, how many
studies looked at it, how many of them were controlled trials, and which kind of gap it
is, so that a researcher can see where no one has looked.

========================  ================================================================
gap                       when
========================  ================================================================
absolute                  no study counted: only a rationale, a review or an opinion ties
                          the two (``studies`` is 0)
synthesis                 two or more studies, none of them a controlled trial (randomised,
                          crossover, systematic review of trials, or non-randomised
                          controlled): enough to plan a trial, not enough to judge
(none)                    a controlled trial exists, or a single uncontrolled study
========================  ================================================================

A **study** is a distinct source of published, counted evidence about the pair with a
clinical or laboratory design (trials, observational studies, case series, in vitro and
animal studies); case reports, reviews, opinions and regulatory documents are not
studies here. All three numbers are subqueries of the one query that reads the stored
ratings (``PairCertainty``), so the map is one query whatever its size.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from findings.models import StudyDesign
from treatments.models import TherapyEvidence

CONTROLLED_DESIGNS = [
    StudyDesign.SYSTEMATIC_REVIEW,
    StudyDesign.RCT,
    StudyDesign.CROSSOVER_RCT,
    StudyDesign.NON_RANDOMISED_CONTROLLED,
]
STUDY_DESIGNS = [
    *CONTROLLED_DESIGNS,
    StudyDesign.COHORT,
    StudyDesign.CASE_CONTROL,
    StudyDesign.CROSS_SECTIONAL,
    StudyDesign.CASE_SERIES,
    StudyDesign.IN_VITRO,
    StudyDesign.ANIMAL,
]


class Gap(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute gap: nothing studied, only a rationale"
    SYNTHESIS = "synthesis", "Synthesis gap: several studies, no controlled trial"
    NONE = "none", "No gap: a controlled trial, or a single study"


GAP_SHORT = {Gap.ABSOLUTE: "Absolute gap", Gap.SYNTHESIS: "Synthesis gap", Gap.NONE: ""}


def _sources(designs) -> Subquery:
    return Coalesce(
        Subquery(
            TherapyEvidence.objects.counted()
            .filter(
                therapy_id=OuterRef("therapy_id"),
                abnormality_id=OuterRef("abnormality_id"),
                design__in=designs,
            )
            .order_by()
            .values("therapy_id")
            .annotate(n=Count("source_id", distinct=True))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def with_gaps(ratings):
    """``ratings`` (a PairCertainty queryset) with ``studies``, ``controlled`` and
    ``gap`` annotated, for filtering and showing."""
    return ratings.annotate(
        studies=_sources(STUDY_DESIGNS), controlled=_sources(CONTROLLED_DESIGNS)
    ).annotate(
        gap=Case(
            When(studies=0, then=Value(Gap.ABSOLUTE.value)),
            When(Q(studies__gte=2) & Q(controlled=0), then=Value(Gap.SYNTHESIS.value)),
            default=Value(Gap.NONE.value),
            output_field=models.CharField(),
        )
    )
