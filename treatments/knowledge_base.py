"""What the seed loader (treatments/seed.py) and data releases (treatments/releases.py)
share: the knowledge base as files of plain records rather than as rows."""

from __future__ import annotations

from django.db import models

from findings.models import Abnormality, Finding, LabTest, Source
from treatments.models import Harm, RegulatoryStatus, Therapy, TherapyEvidence

# Every curated model, each after the models it refers to: the order a knowledge base
# is written in, and everything a release import requires to be empty first.
CURATED_MODELS: tuple[type[models.Model], ...] = (
    Source,
    Abnormality,
    LabTest,
    Therapy,
    Finding,
    TherapyEvidence,
    RegulatoryStatus,
    Harm,
)

# The fields of findings.models.EvidenceFields that a claim (a finding or a therapy
# evidence item) carries in a file; the moderation fields are not carried: everything
# in a file is published.
EVIDENCE_FIELDS = (
    "statement",
    "quote",
    "study_design",
    "participants",
    "case_definition",
    "direction",
    "level",
    "curator_note",
)


def empty_value(model: type[models.Model], name: str) -> str | None:
    """What a missing (``null``) value in a file is stored as: NULL where the column
    allows it (a year, a date, an optional link), "" for text, which Django stores as
    "" rather than NULL."""
    return None if model._meta.get_field(name).null else ""
