"""The review workflow: one set of transitions for every curated (``Moderated``) record.

The admin actions and the API call these functions and nothing else to change a
record's status, so the rules below hold whichever door a curator comes in by:

- curators (``change_<model>``) submit drafts and rejected records for review;
- editors (``review_<model>``) publish or reject submitted records, and retract
  published ones; rejecting and retracting need a note saying why;
- nobody publishes a record they created or submitted, editors included;
- every transition is saved in the record's history with the user and the note.

Lives in ``findings`` (the ground floor) so that ``treatments`` can use it for its
models too; nothing here knows about ``treatments``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from findings.models import Moderated, Status


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
    return _review(current, user=user, status=Status.PUBLISHED, note=note.strip(), verb="Published")


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
    return _review(current, user=user, status=Status.RETRACTED, note=note, verb="Retracted")


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
