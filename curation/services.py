"""Writes to curated (``Moderated``) records, with their rules written once (STYLE.md §3).

Drafts (the API's POST and PATCH): new records are drafts; only drafts or rejected
records can be edited; nothing here can publish.

The review workflow (the admin's actions and the API's submit/publish/reject): the
admin and the API call these functions and nothing else to change a record's status,
so the rules hold whichever door a curator comes in by:

- curators (``change_<model>``) submit drafts and rejected records for review;
- editors (``review_<model>``) publish or reject submitted records, and retract
  published ones; rejecting and retracting need a note saying why;
- nobody publishes a record they created or submitted, editors included;
- every transition is saved in the record's history with the user and the note.

No lost updates: callers may pass ``expected_version`` (the record's ``version``, the
API's ETag) and a record changed since then is refused with ``VersionConflict``.

Lives in ``curation`` (the ground floor) so that every app's curated models share it;
nothing here knows a domain model.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from curation.models import DataChangeAction, Moderated, Status
from curation.versions import data_version_record


class ReviewError(Exception):
    """A transition was refused; ``message`` says why in words a curator understands.
    Nothing was written."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ReviewPermissionError(ReviewError):
    """The user's role may not do this (or it is their own submission)."""

    status_code = 403


class ReviewNoteRequired(ReviewError):
    """Rejecting and retracting need a note."""

    status_code = 400


class ReviewTransitionError(ReviewError):
    """The record is not in a status this transition starts from."""

    status_code = 409


class VersionConflict(ReviewError):
    """The record was changed by someone else since the caller read it."""

    status_code = 412


def _label(record: Moderated) -> str:
    return f"{record._meta.verbose_name} “{record}”"


def record_can_review(*, record: Moderated | type[Moderated], user) -> bool:
    opts = record._meta
    return user.has_perm(f"{opts.app_label}.review_{opts.model_name}")


def record_can_edit(*, record: Moderated | type[Moderated], user) -> bool:
    opts = record._meta
    return user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


def review_note_check(*, note: str, action: str, record: Moderated | None = None) -> str:
    """Raise ``ReviewNoteRequired`` when ``note`` is blank; return it trimmed.
    Used by the services and by forms that ask for the note first."""
    note = (note or "").strip()
    if not note:
        what = f" {_label(record)}" if record is not None else ""
        raise ReviewNoteRequired(
            f"A note is required to {action}{what}: say why, for the curator who wrote it "
            "and for the record's history."
        )
    return note


def _locked(record: Moderated, expected_version: str | None) -> Moderated:
    """The record as it is in the database now, locked until the transaction ends, so
    that two reviewers acting at once cannot both succeed from the same status."""
    model = type(record)
    current = model._default_manager.select_for_update().filter(pk=record.pk).first()
    if current is None:
        raise ReviewTransitionError(f"{_label(record)} no longer exists.")
    if expected_version is not None and current.version != expected_version:
        raise VersionConflict(
            f"{_label(current)} was changed by someone else since you read it; "
            "nothing was changed. Read it again and retry."
        )
    return current


def _require_status(record: Moderated, allowed: tuple[str, ...], action: str) -> None:
    if record.status not in allowed:
        names = " or ".join(Status(s).label.lower() for s in allowed)
        raise ReviewTransitionError(
            f"{_label(record)} is {record.get_status_display().lower()}; only {names} "
            f"records can be {action}."
        )


def _require_reviewer(record: Moderated, user, action: str) -> None:
    if not record_can_review(record=record, user=user):
        raise ReviewPermissionError(
            f"You may not {action} {_label(record)}: only editors (who hold the review "
            "permission) can."
        )


def _save(record: Moderated, *, user, reason: str, fields: list[str]) -> None:
    # simple_history reads these two attributes: the history row names the user even
    # when no request is around (API token calls, commands, tests) and keeps the note.
    record._history_user = user
    record._change_reason = reason[:100]
    record.save(update_fields=[*fields, "updated_at"])


def _reason(verb: str, note: str) -> str:
    return f"{verb}: {note}" if note else verb


@transaction.atomic
def record_submit(
    *, record: Moderated, user, note: str = "", expected_version: str | None = None
) -> Moderated:
    """A curator sends a draft (or a rejected record, after fixing it) for review."""
    current = _locked(record, expected_version)
    if not record_can_edit(record=current, user=user):
        raise ReviewPermissionError(
            f"You may not submit {_label(current)}: only curators and editors can."
        )
    _require_status(current, (Status.DRAFT, Status.REJECTED), "submitted")
    current.status = Status.SUBMITTED
    current.submitted_by = user
    _save(
        current,
        user=user,
        reason=_reason("Submitted", note.strip()),
        fields=["status", "submitted_by"],
    )
    return current


@transaction.atomic
def record_publish(
    *, record: Moderated, user, note: str = "", expected_version: str | None = None
) -> Moderated:
    """An editor publishes a submitted record that someone else created and submitted."""
    current = _locked(record, expected_version)
    _require_reviewer(current, user, "publish")
    _require_status(current, (Status.SUBMITTED,), "published")
    if user.pk is not None and user.pk in (current.created_by_id, current.submitted_by_id):
        raise ReviewPermissionError(
            f"You cannot publish {_label(current)}: you created or submitted it, and "
            "nobody publishes their own work. Another editor must review it."
        )
    current = _review(
        current, user=user, status=Status.PUBLISHED, note=note.strip(), verb="Published"
    )
    data_version_record(record=current, action=DataChangeAction.ADDED, note=current.review_note)
    return current


@transaction.atomic
def record_reject(
    *, record: Moderated, user, note: str, expected_version: str | None = None
) -> Moderated:
    """An editor sends a submitted record back to its curator, saying why."""
    current = _locked(record, expected_version)
    _require_reviewer(current, user, "reject")
    note = review_note_check(note=note, action="reject", record=current)
    _require_status(current, (Status.SUBMITTED,), "rejected")
    return _review(current, user=user, status=Status.REJECTED, note=note, verb="Rejected")


@transaction.atomic
def record_retract(
    *, record: Moderated, user, note: str, expected_version: str | None = None
) -> Moderated:
    """An editor withdraws a published record: it is kept and shown as retracted, and
    leaves lists, rankings and exports."""
    current = _locked(record, expected_version)
    _require_reviewer(current, user, "retract")
    note = review_note_check(note=note, action="retract", record=current)
    _require_status(current, (Status.PUBLISHED,), "retracted")
    current = _review(current, user=user, status=Status.RETRACTED, note=note, verb="Retracted")
    data_version_record(record=current, action=DataChangeAction.RETRACTED, note=note)
    return current


def _review(record: Moderated, *, user, status: str, note: str, verb: str) -> Moderated:
    record.status = status
    record.reviewed_by = user
    record.reviewed_at = timezone.now()
    record.review_note = note
    _save(
        record,
        user=user,
        reason=_reason(verb, note),
        fields=["status", "reviewed_by", "reviewed_at", "review_note"],
    )
    return record


# The transitions by name, for the admin actions and the API views.
TRANSITIONS = {
    "submit": record_submit,
    "publish": record_publish,
    "reject": record_reject,
    "retract": record_retract,
}


# ------------------------------------------------------------------------------------
# Drafts (the API's POST and PATCH)
# ------------------------------------------------------------------------------------

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
def draft_update(
    *, record: Moderated, fields: dict[str, Any], by, expected_version: str | None = None
) -> Moderated:
    """Change a draft or rejected record; a rejected record becomes a draft again.
    ``by`` is recorded in the record's history. With ``expected_version`` (If-Match),
    a record changed since the caller read it is refused and left as it is."""
    # Locked and read again: an editor may have published it since it was fetched.
    record = _locked(record, expected_version)
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
