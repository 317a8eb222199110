"""What the seed loader (treatments/seed.py) and data releases (treatments/releases.py)
share: the knowledge base as files of plain records rather than as rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from findings.models import STUDY_FIELDS, Abnormality, Finding, GlossaryTerm, LabTest, Source
from treatments.models import (
    CertaintyOverride,
    Harm,
    RegulatoryStatus,
    Therapy,
    TherapyEvidence,
)

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
    CertaintyOverride,
    GlossaryTerm,
)

# The fields of findings.models.EvidenceFields that a claim (a finding or a therapy
# evidence item) carries in a file; the moderation fields are not carried: everything
# in a file is published.
EVIDENCE_FIELDS = (
    "statement",
    "plain_summary",
    "quote",
    "study_design",
    "participants",
    "case_definition",
    "direction",
    "level",
    "curator_note",
    *STUDY_FIELDS,
)


# A harm's content, as a curator writes it and as the API and releases carry it (its
# therapy and source are links, named apart by each).
HARM_CONTENT_FIELDS = (
    "kind",
    "effect",
    "frequency",
    "severity",
    "control_comparison",
    "population",
    "statement",
    "quote",
    "curator_note",
)


def empty_value(model: type[models.Model], name: str) -> str | None:
    """What a missing (``null``) value in a file is stored as: NULL where the column
    allows it (a year, a date, an optional link), "" for text, which Django stores as
    "" rather than NULL."""
    return None if model._meta.get_field(name).null else ""


def missing_value(model: type[models.Model], name: str) -> Any:
    """What a field left out of a file is stored as: the field's default ("not
    reported", "not assessed") when it has one, else as ``empty_value``. The structured
    study fields (issue 12) are optional in files written before they existed."""
    field = model._meta.get_field(name)
    if field.has_default():
        return field.get_default()
    return empty_value(model, name)


def file_value(model: type[models.Model], name: str, value: Any) -> Any:
    """A value read from a file as the model field takes it: a JSON number for a decimal
    field (0.96) becomes the decimal it was written as, not the nearest binary float
    (0.95999999999999996…, which the field's decimal places refuse)."""
    if isinstance(value, float) and isinstance(model._meta.get_field(name), models.DecimalField):
        return Decimal(repr(value))
    return value


def plain_decimal(value: Decimal) -> str:
    """A decimal as a file carries it: exact, without trailing zeros (0.96, 40)."""
    return format(value.normalize(), "f")
