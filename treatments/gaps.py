"""The evidence-gap map (issue 12): for each rated abnormality-therapy pair, how many
studies looked at it, how many of them were clinical and controlled, and which kind of
gap it is, so that a researcher can see where no one has looked.

========================  ================================================================
gap                       when
========================  ================================================================
absolute                  no study counted: only a rationale, a review or an opinion ties
                          the two (``studies`` is 0)
synthesis                 two or more clinical studies (in people), none of them
                          controlled (randomised, crossover, systematic review of trials,
                          or non-randomised controlled): enough to plan a trial, not
                          enough to judge. Laboratory studies (in vitro, animal) do not
                          make one: two cell studies are not a trial waiting to happen.
(none)                    a controlled trial exists, a single clinical study, or
                          laboratory studies only
========================  ================================================================

The numbers are those stored with each pair's rating on publish (``PairCertainty``,
counted by treatments/counts.py: a **study** is a distinct source of counted evidence
with a clinical or laboratory design), so the map is one query of stored rows whatever
the size of the evidence behind it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, F, Q, Value, When


class Gap(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute gap: nothing studied, only a rationale"
    SYNTHESIS = "synthesis", "Synthesis gap: several clinical studies, no controlled trial"
    NONE = "none", "No gap: a controlled trial, a single clinical study, or laboratory work only"


GAP_SHORT = {Gap.ABSOLUTE: "Absolute gap", Gap.SYNTHESIS: "Synthesis gap", Gap.NONE: ""}


def with_gaps(ratings):
    """``ratings`` (a PairCertainty queryset) with ``studies``, ``clinical``,
    ``controlled`` (the stored counts) and ``gap`` annotated, for filtering and
    showing."""
    return ratings.annotate(
        studies=F("evidence_studies"),
        clinical=F("evidence_clinical_studies"),
        controlled=F("evidence_controlled_studies"),
    ).annotate(
        gap=Case(
            When(studies=0, then=Value(Gap.ABSOLUTE.value)),
            When(Q(clinical__gte=2) & Q(controlled=0), then=Value(Gap.SYNTHESIS.value)),
            default=Value(Gap.NONE.value),
            output_field=models.CharField(),
        )
    )
