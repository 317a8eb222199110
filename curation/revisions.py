"""Suggested revisions: a change to a published record is kept aside, field by field,
until a different editor accepts it (DESIGN.md "Moderation").

``record_edit`` (curation/services.py) sends every change to a published record here,
whichever door it came in by (admin form, inline row, history revert, API). Readers
see the published version until ``suggestion_accept`` applies the change in one
transaction, with a new data version; history names the author and the reviewer.

A suggestion is made against one version of the record (``base_version``). When the
record changes in the meantime (another suggestion accepted, a retraction), the
suggestion is marked stale and cannot be accepted as it is: its author suggests the
change again against what readers now see.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from curation.models import (
    ContributionKind,
    DataChangeAction,
    Moderated,
    Status,
    Suggestion,
    SuggestionState,
)
from curation.services import (
    PublishBlocked,
    ReviewPermissionError,
    ReviewTransitionError,
    VersionConflict,
    _apply,
    _contributed,
    _label,
    _locked,
    _save_checked,
    record_can_review,
    record_check_can_edit,
    record_edit,
    record_publish_blocker,
    review_note_check,
)
from curation.versions import data_version_record


class SuggestionStale(ReviewTransitionError):
    """The record changed since the suggestion was made: it cannot be accepted as it is."""

    code = "stale"


class RecordNotPublished(ReviewTransitionError):
    """Suggestions are for published records; a draft (or rejected record) is changed
    directly, by an edit."""

    code = "not_published"

    def __init__(self, record: Moderated, how: str = "edit it instead"):
        self.record = record
        super().__init__(
            f"{_label(record)} is {record.get_status_display().lower()}, not published, so "
            f"it takes no suggestions: {how}. Nothing was saved."
        )


def _validate(record: Moderated, changes: dict[str, dict[str, Any]]) -> None:
    """The record as it would be with ``changes`` passes full model validation (so a
    suggestion that could never be accepted is refused when it is made)."""
    candidate = copy.copy(record)
    candidate._state = copy.copy(record._state)
    _apply(candidate, {name: change["new"] for name, change in changes.items()})
    candidate.full_clean()


def suggestion_create(
    *, record: Moderated, changes: dict[str, dict[str, Any]], user, reason: str = ""
) -> Suggestion:
    """Keep ``changes`` (``{field: {"old", "new"}}``, from ``fields_changed``) to the
    published ``record`` for review. Called by ``record_edit``, inside its transaction,
    with the record locked."""
    _validate(record, changes)
    suggestion = Suggestion.objects.create(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        label=str(record)[:300],
        changes=changes,
        base_version=record.version,
        reason=reason.strip(),
        author=user,
    )
    _contributed(record, user, ContributionKind.SUGGESTED)
    return suggestion


def suggestion_check_can_propose(*, record: Moderated, user) -> None:
    """Raise unless ``user`` may suggest a change to ``record`` (callers ask before
    they judge the values, as the API does): curators and editors may, for a published
    record only."""
    record_check_can_edit(record=record, user=user)
    if record.status != Status.PUBLISHED:
        raise RecordNotPublished(record)


@transaction.atomic
def suggestion_propose(
    *, record: Moderated, fields: dict[str, Any], user, reason: str = ""
) -> Suggestion:
    """Suggest a change to a published record (the API's ``POST /suggestions/``): the
    same path and rules as an edit (``record_edit``), except that a record that is not
    published is refused rather than changed, and so is a change that changes nothing."""
    current = _locked(record, None)
    suggestion_check_can_propose(record=current, user=user)
    result = record_edit(record=current, fields=fields, user=user, reason=reason)
    if result.suggestion is None:
        raise ValidationError(
            {"changes": ["Nothing would change: every value given is the record's own."]}
        )
    return result.suggestion


def _locked_suggestion(suggestion: Suggestion) -> Suggestion:
    current = Suggestion.objects.select_for_update().filter(pk=suggestion.pk).first()
    if current is None:
        raise ReviewTransitionError("This suggestion no longer exists.")
    return current


def _require_pending(suggestion: Suggestion, action: str) -> None:
    if suggestion.state != SuggestionState.PENDING:
        raise ReviewTransitionError(
            f"This suggestion is {suggestion.get_state_display().lower()}; only suggestions "
            f"waiting for review can be {action}."
        )


def _target(suggestion: Suggestion) -> type[Moderated]:
    return suggestion.content_type.model_class()


def _require_reviewer(suggestion: Suggestion, user, action: str) -> None:
    model = _target(suggestion)
    if not record_can_review(record=model, user=user):
        raise ReviewPermissionError(
            f"You may not {action} a change to {model._meta.verbose_name_plural}: only "
            "editors (who hold the review permission) can."
        )


def suggestion_accept(*, suggestion: Suggestion, user, note: str = "") -> Moderated:
    """Apply the suggested change to the published record, now visible to readers.

    A suggestion found stale is marked so (that mark is kept) and refused."""
    try:
        return _accept(suggestion=suggestion, user=user, note=note)
    except SuggestionStale:
        with transaction.atomic():
            Suggestion.objects.filter(pk=suggestion.pk, state=SuggestionState.PENDING).update(
                state=SuggestionState.STALE
            )
        raise


@transaction.atomic
def _accept(*, suggestion: Suggestion, user, note: str) -> Moderated:
    current = _locked_suggestion(suggestion)
    _require_reviewer(current, user, "accept")
    _require_pending(current, "accepted")
    if current.author_id == user.pk:
        raise ReviewPermissionError(
            "You cannot accept your own suggestion: nobody publishes their own work. "
            "Another editor must review it."
        )
    model = _target(current)
    try:
        record = _locked(model(pk=current.object_id), expected_version=current.base_version)
    except VersionConflict:
        raise SuggestionStale(
            f"{_label(model._default_manager.get(pk=current.object_id))} changed since this "
            "suggestion was made, so it cannot be accepted as it is; it is now marked "
            "stale. Its author can suggest the change again against the current version."
        ) from None
    if record.status != Status.PUBLISHED:
        raise SuggestionStale(
            f"{_label(record)} is {record.get_status_display().lower()}, no longer "
            "published: the suggestion is marked stale."
        )
    changes = current.changes
    many = _apply(record, {name: change["new"] for name, change in changes.items()})
    # A change that moves a public record onto an unpublished one (another source, a
    # draft abnormality) would make it lead readers nowhere, as publishing it would.
    blocker = record_publish_blocker(record=record, lock=True)
    if blocker:
        raise PublishBlocked(f"You cannot accept this change to {_label(record)} yet. {blocker}")
    note = note.strip()
    record._history_user = user
    why = f": {current.reason}" if current.reason else ""
    record._change_reason = f"Accepted suggestion #{current.pk} by {current.author}{why}"
    _save_checked(record)
    for name, pks in many.items():
        getattr(record, name).set(pks)
    current.state = SuggestionState.ACCEPTED
    current.reviewed_by = user
    current.reviewed_at = timezone.now()
    current.review_note = note
    current.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])
    data_version_record(
        record=record, action=DataChangeAction.REVISED, fields=list(changes), note=note
    )
    suggestions_mark_stale(record=record)
    return record


@transaction.atomic
def suggestion_reject(*, suggestion: Suggestion, user, note: str) -> Suggestion:
    """Turn the suggestion down, saying why: its author reads the note."""
    current = _locked_suggestion(suggestion)
    _require_reviewer(current, user, "reject")
    note = review_note_check(note=note, action="reject this suggestion")
    _require_pending(current, "rejected")
    if current.author_id == user.pk:
        raise ReviewPermissionError("You cannot reject your own suggestion; withdraw it instead.")
    current.state = SuggestionState.REJECTED
    current.reviewed_by = user
    current.reviewed_at = timezone.now()
    current.review_note = note
    current.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])
    return current


@transaction.atomic
def suggestion_withdraw(*, suggestion: Suggestion, user) -> Suggestion:
    """Its author takes back a suggestion nobody has reviewed yet."""
    current = _locked_suggestion(suggestion)
    if current.author_id != user.pk:
        raise ReviewPermissionError("Only its author can withdraw a suggestion.")
    _require_pending(current, "withdrawn")
    _mark(current, SuggestionState.WITHDRAWN)
    return current


def _mark(suggestion: Suggestion, state: str) -> None:
    suggestion.state = state
    suggestion.save(update_fields=["state"])


def suggestions_mark_stale(*, record: Moderated) -> int:
    """Pending suggestions made against an older version of ``record`` can no longer
    be accepted as they are. Returns how many were marked."""
    return (
        Suggestion.objects.for_record(record)
        .pending()
        .exclude(base_version=record.version)
        .update(state=SuggestionState.STALE)
    )


def suggestion_diff(suggestion: Suggestion) -> list[dict[str, Any]]:
    """Field by field, in curators' words: ``[{"field", "label", "old", "new"}]``, links
    shown by their names (one query per linked model)."""
    model = _target(suggestion)
    rows = []
    for name, change in suggestion.changes.items():
        model_field = model._meta.get_field(name)
        old, new = change["old"], change["new"]
        if model_field.is_relation:
            target = model_field.related_model
            wanted = set(old or []) | set(new or []) if model_field.many_to_many else {old, new}
            names = {
                obj.pk: str(obj) for obj in target._default_manager.filter(pk__in=wanted - {None})
            }

            def show(value, names=names, many=model_field.many_to_many):
                if many:
                    return "; ".join(names.get(pk, f"#{pk}") for pk in value) or "—"
                return names.get(value, "—" if value is None else f"#{value}")

            old, new = show(old), show(new)
        elif model_field.choices:
            labels = dict(model_field.flatchoices)
            old, new = labels.get(old, old), labels.get(new, new)
        rows.append({"field": name, "label": str(model_field.verbose_name), "old": old, "new": new})
    return rows
