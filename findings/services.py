"""Writes to curated records that carry moderation rules (STYLE.md §3).

The API (and later the review actions of the Trust issue) call these; the rules
live here once: new records are drafts, and only drafts or rejected records can
be edited. Nothing here can publish.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from findings.models import Moderated, Status

# A rejected record goes back to the curator, who fixes it and submits it again.
EDITABLE_STATUSES = (Status.DRAFT, Status.REJECTED)


class RecordNotEditable(Exception):
    """The record is submitted, published or retracted: its content is under review or
    public, so it is changed only through the review workflow."""

    def __init__(self, record: Moderated):
        self.record = record
        super().__init__(
            f"This record is {record.get_status_display().lower()}; only draft or rejected "
            "records can be edited. Ask an editor to reject or retract it first."
        )


def draft_check_editable(record: Moderated) -> None:
    """Raise RecordNotEditable unless the API's writes may change ``record``."""
    if record.status not in EDITABLE_STATUSES:
        raise RecordNotEditable(record)


def _save_checked(record: Moderated) -> None:
    """Full model validation (field validators, check and unique constraints), then save.

    A unique DOI or PMID taken between the check and the insert still reaches the
    database's constraint: that is reported the same way, not as a crash.
    """
    record.full_clean()
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        raise ValidationError(
            "This record conflicts with an existing one (a DOI, PMID, key, name or slug "
            "that must be unique is taken)."
        ) from exc


@transaction.atomic
def draft_create(*, model: type[Moderated], fields: dict[str, Any], by) -> Moderated:
    """Create a draft of ``model`` from ``fields`` (many-to-many values set afterwards)."""
    many = {k: v for k, v in fields.items() if model._meta.get_field(k).many_to_many}
    record = model(**{k: v for k, v in fields.items() if k not in many})
    record.status = Status.DRAFT
    record.created_by = by
    record._history_user = by
    _save_checked(record)
    for name, values in many.items():
        getattr(record, name).set(values)
    return record


@transaction.atomic
def draft_update(*, record: Moderated, fields: dict[str, Any], by) -> Moderated:
    """Change a draft or rejected record; a rejected record becomes a draft again.
    ``by`` is recorded in the record's history."""
    # Locked and read again: an editor may have published it since it was fetched.
    record = type(record).objects.select_for_update().get(pk=record.pk)
    draft_check_editable(record)
    many = {k: v for k, v in fields.items() if record._meta.get_field(k).many_to_many}
    for name, value in fields.items():
        if name not in many:
            setattr(record, name, value)
    record.status = Status.DRAFT
    record._history_user = by
    _save_checked(record)
    for name, values in many.items():
        getattr(record, name).set(values)
    return record
