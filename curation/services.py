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

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone

from curation.models import Contribution, ContributionKind, DataChangeAction, Moderated, Status
from curation.versions import data_version_record


class ReviewError(Exception):
    """A transition was refused; ``message`` says why in words a curator understands.
    Nothing was written."""

    status_code = 400
    # The API's error code when it is not the one of ``status_code`` (curation/rest.py).
    code: str | None = None

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


class PublishBlocked(ReviewTransitionError):
    """A record would become public while a record it rests on (its source, abnormality,
    therapy …) is not."""


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


# The statuses each transition starts from.
TRANSITION_FROM: dict[str, tuple[str, ...]] = {
    "submit": (Status.DRAFT, Status.REJECTED),
    "reopen": (Status.REJECTED,),
    "publish": (Status.SUBMITTED,),
    "reject": (Status.SUBMITTED,),
    "retract": (Status.PUBLISHED,),
}
# Editors' transitions (``review_<model>``); the others are curators' (``change_<model>``).
REVIEW_TRANSITIONS = ("publish", "reject", "retract")
# Rejecting and retracting need a note saying why.
NOTE_REQUIRED = ("reject", "retract")


def _require_status(record: Moderated, allowed: tuple[str, ...], action: str) -> None:
    if record.status not in allowed:
        names = " or ".join(Status(s).label.lower() for s in allowed)
        raise ReviewTransitionError(
            f"{_label(record)} is {record.get_status_display().lower()}; only {names} "
            f"records can be {action}."
        )


def _require_curator(record: Moderated, user, action: str) -> None:
    if not record_can_edit(record=record, user=user):
        raise ReviewPermissionError(
            f"You may not {action} {_label(record)}: only curators and editors can."
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
    record._change_reason = reason
    record.save(update_fields=[*fields, "updated_at"])


def _reason(verb: str, note: str) -> str:
    return f"{verb}: {note}" if note else verb


@transaction.atomic
def record_submit(
    *, record: Moderated, user, note: str = "", expected_version: str | None = None
) -> Moderated:
    """A curator sends a draft (or a rejected record, after fixing it) for review."""
    current = _locked(record, expected_version)
    _require_curator(current, user, "submit")
    _require_status(current, TRANSITION_FROM["submit"], "submitted")
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
    _require_status(current, TRANSITION_FROM["publish"], "published")
    if record_wrote(record=current, user=user):
        raise ReviewPermissionError(
            f"You cannot publish {_label(current)}: you created, edited or submitted it, "
            "and nobody publishes their own work. Another editor must review it."
        )
    blocker = record_publish_blocker(record=current, lock=True)
    if blocker:
        raise PublishBlocked(f"You cannot publish {_label(current)} yet. {blocker}")
    current = _review(
        current, user=user, status=Status.PUBLISHED, note=note.strip(), verb="Published"
    )
    data_version_record(record=current, action=DataChangeAction.ADDED, note=current.review_note)
    return current


def _rests_on(model: type[Moderated]) -> list:
    """The forward foreign keys of ``model`` to curated models: what a reader would
    follow from it (a claim's source, abnormality, therapy). Found in ``_meta``, so
    that curation names no domain model."""
    return [
        found
        for found in model._meta.get_fields()
        if (found.many_to_one or found.one_to_one)
        and found.concrete
        and isinstance(found.related_model, type)
        and issubclass(found.related_model, Moderated)
    ]


_STATE = {
    Status.DRAFT: "a draft",
    Status.SUBMITTED: "submitted",
    Status.REJECTED: "rejected",
    Status.RETRACTED: "retracted",
}


def record_publish_missing(*, record: Moderated) -> str:
    """Which field ``record`` must fill before it is published (``publish_requires``),
    in words naming it, or "". No query: loaders that publish directly (the seed) ask
    it of every record they publish."""
    for name in record.publish_requires:
        if not str(getattr(record, name) or "").strip():
            field = type(record)._meta.get_field(name)
            return (
                f"Its {field.verbose_name} ({name}) is empty: write it first, in words "
                "any reader can follow; readers see it before anything else."
            )
    return ""


def record_publish_blocker(*, record: Moderated, lock: bool = False) -> str:
    """Why ``record`` cannot be public yet, or "": a field it must fill before readers
    see it (``publish_requires``) is empty; or a record it rests on (by a set foreign
    key) is not published, and a public claim must never lead a reader to a record they
    cannot see. With ``lock`` the records it rests on stay locked until the transaction
    ends, so none is retracted between this check and the publish."""
    missing = record_publish_missing(record=record)
    if missing:
        return missing
    for fk in _rests_on(type(record)):
        pk = getattr(record, fk.attname)
        if pk is None:
            continue
        rows = fk.related_model._default_manager.filter(pk=pk)
        target = (rows.select_for_update() if lock else rows).first()
        if target is None or target.status == Status.PUBLISHED:
            continue
        what = f"Its {fk.verbose_name} “{target}” is {_STATE[target.status]}"
        if target.status == Status.RETRACTED:
            return f"{what}: a public record cannot rest on a withdrawn one."
        return (
            f"{what}, not published: publish it first, or publish the "
            f"{target._meta.verbose_name} with its claims together."
        )
    return ""


@transaction.atomic
def record_reject(
    *, record: Moderated, user, note: str, expected_version: str | None = None
) -> Moderated:
    """An editor sends a submitted record back to its curator, saying why."""
    current = _locked(record, expected_version)
    _require_reviewer(current, user, "reject")
    note = review_note_check(note=note, action="reject", record=current)
    _require_status(current, TRANSITION_FROM["reject"], "rejected")
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
    _require_status(current, TRANSITION_FROM["retract"], "retracted")
    current = _review(current, user=user, status=Status.RETRACTED, note=note, verb="Retracted")
    from curation.revisions import suggestions_mark_stale

    suggestions_mark_stale(record=current)
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


# ------------------------------------------------------------------------------------
# Content: the one edit path (admin forms, inline rows, history reverts, the API)
# ------------------------------------------------------------------------------------

# A rejected record goes back to the curator, who fixes it and submits it again.
EDITABLE_STATUSES = (Status.DRAFT, Status.REJECTED)

# Set only by the review workflow, never by an edit.
MODERATION_FIELDS = frozenset(
    {
        "id",
        "status",
        "created_by",
        "submitted_by",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "created_at",
        "updated_at",
    }
)


class RecordNotEditable(ReviewError):
    """The record is submitted or retracted: its content is under review or withdrawn,
    so nobody edits it (a published record takes suggestions instead)."""

    status_code = 409

    def __init__(self, record: Moderated):
        self.record = record
        if record.status == Status.SUBMITTED:
            message = (
                f"{_label(record)} is submitted for review, so it cannot be edited now. "
                "Nothing was saved. Ask an editor to reject it (then fix it), or reopen it."
            )
        else:
            message = (
                f"{_label(record)} is {record.get_status_display().lower()}; it cannot be "
                "edited. Nothing was saved."
            )
        super().__init__(message)


@dataclass
class EditResult:
    """What an edit did: changed a draft (``changed``), or, for a published record,
    kept the change aside as ``suggestion`` for another editor to accept."""

    record: Moderated
    changed: list[str] = field(default_factory=list)
    suggestion: Any = None


def _field(model: type[Moderated], name: str):
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        found = None
    if found is None or name in MODERATION_FIELDS or not found.editable or found.auto_created:
        raise ValidationError({name: [f"“{name}” cannot be changed by an edit."]})
    return found


def field_value(record: Moderated, name: str) -> Any:
    """``record``'s value of ``name`` as the suggestions store it (JSON): ids for
    links, sorted ids for many-to-many links, ISO text for dates."""
    model_field = record._meta.get_field(name)
    if model_field.many_to_many:
        if record.pk is None:
            return []
        return sorted(getattr(record, name).values_list("pk", flat=True))
    return _plain(getattr(record, model_field.attname))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _normalise(model: type[Moderated], name: str, value: Any) -> Any:
    """A value from a form or a serializer (records, querysets) as ``field_value``
    gives it."""
    model_field = _field(model, name)
    if model_field.many_to_many:
        return sorted(getattr(item, "pk", item) for item in (value or []))
    if model_field.is_relation:
        return getattr(value, "pk", value)
    return _plain(value)


def fields_changed(*, record: Moderated, fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{name: {"old": …, "new": …}}`` for each of ``fields`` that differs from the
    record as it is (not as a form first showed it: a revert to an old version is a
    change from the current one)."""
    model = type(record)
    changes = {}
    for name, value in fields.items():
        new = _normalise(model, name, value)
        old = field_value(record, name)
        if new != old:
            changes[name] = {"old": old, "new": new}
    return changes


def _apply(record: Moderated, changes: dict[str, Any]) -> dict[str, list[int]]:
    """Set the plain fields of ``changes`` (``{name: new value}``) on ``record``;
    return the many-to-many ones, set after the record is saved."""
    many = {}
    for name, value in changes.items():
        model_field = record._meta.get_field(name)
        if model_field.many_to_many:
            many[name] = list(value)
        elif model_field.is_relation:
            setattr(record, model_field.attname, value)
        else:
            setattr(record, model_field.attname, model_field.to_python(value))
    return many


def _hold_given_parents(record: Moderated, fields: dict[str, Any]) -> None:
    """The parents given as records (a serializer's or a form's cleaned value, read in
    this request) kept on the new record beside their ids: what it shows and its sort
    key (a claim's source year) need not read them again."""
    for name, value in fields.items():
        field = _field(type(record), name)
        if (
            field.many_to_one
            and isinstance(value, models.Model)
            and value.pk == getattr(record, field.attname)
        ):
            field.set_cached_value(record, value)


def _save_checked(record: Moderated) -> None:
    """Full model validation (field validators, check and unique constraints), then save.

    A unique DOI or PMID taken between the check and the insert still reaches the
    database's constraint: that is reported the same way, not as a crash.

    On PostgreSQL the parents (foreign keys) are checked by the database as the row is
    saved, instead of by one query per parent before it: its foreign keys are deferred
    to the commit, so they are made to fire at once, inside the savepoint. A parent
    deleted meanwhile is then reported like the rest, at its field, before anything is
    kept; before, the same race failed only at the commit.
    """
    parents_at_save = _checks_parents_at_save(record)
    record.parents_checked_at_save = parents_at_save
    try:
        record.full_clean()
    finally:
        record.parents_checked_at_save = False
    try:
        with transaction.atomic():
            record.save()
            if parents_at_save:
                _check_deferred_constraints_now(record)
    except IntegrityError as exc:
        # The row that won the race is committed now: checking again gives the message
        # the first check would have given (a duplicate DOI on the DOI field, a parent
        # that no longer exists at its field).
        record.full_clean()
        raise ValidationError(
            "This record conflicts with an existing one (a DOI, PMID, key, name or slug "
            "that must be unique is taken)."
        ) from exc


def _checks_parents_at_save(record: Moderated) -> bool:
    using = router.db_for_write(type(record), instance=record)
    return connections[using].vendor == "postgresql"


def _check_deferred_constraints_now(record: Moderated) -> None:
    """Run the foreign-key checks PostgreSQL deferred to the commit now, and defer the
    later ones again (as Django's ``check_constraints`` does), in one round trip."""
    using = router.db_for_write(type(record), instance=record)
    with connections[using].cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")


def _contributed(record: Moderated, user, kind: str) -> None:
    Contribution.objects.create(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        user=user,
        kind=kind,
    )


def record_wrote(*, record: Moderated, user) -> bool:
    """Whether ``user`` wrote any of ``record``'s content (created, edited, restored or
    suggested a change to it): then someone else must review it."""
    if user.pk is None:
        return False
    if user.pk in (record.created_by_id, record.submitted_by_id):
        return True
    return Contribution.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        user=user,
    ).exists()


def records_written_by(*, records: list[Moderated], user) -> list[Moderated]:
    """Those of ``records`` that ``user`` wrote (as ``record_wrote``), with one query per
    kind of record, not one per record."""
    if user.pk is None or not records:
        return []
    by_model: dict[type[Moderated], list[Moderated]] = {}
    for record in records:
        by_model.setdefault(type(record), []).append(record)
    wrote: set[tuple[type[Moderated], int]] = set()
    for model, rows in by_model.items():
        contributed = Contribution.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[r.pk for r in rows],
            user=user,
        ).values_list("object_id", flat=True)
        wrote.update((model, pk) for pk in contributed)
    return [
        r
        for r in records
        if user.pk in (r.created_by_id, r.submitted_by_id) or (type(r), r.pk) in wrote
    ]


def record_check_can_edit(*, record: Moderated, user) -> None:
    """Raise unless ``user`` may change ``record``'s content through an edit (applied
    to a draft, or kept as a suggestion for a published record)."""
    _require_curator(record, user, "change")
    if record.status not in (*EDITABLE_STATUSES, Status.PUBLISHED):
        raise RecordNotEditable(record)


@transaction.atomic
def record_create(
    *, model: type[Moderated], fields: dict[str, Any], user, reason: str = ""
) -> Moderated:
    """A new draft of ``model`` from ``fields`` (many-to-many values set after saving).
    ``reason`` is kept in its history ("Created" without one): the file it was imported
    from, why it is not a duplicate of a look-alike."""
    if not user.has_perm(f"{model._meta.app_label}.add_{model._meta.model_name}"):
        raise ReviewPermissionError(
            f"You may not add a {model._meta.verbose_name}: only curators and editors can."
        )
    values = {name: _normalise(model, name, value) for name, value in fields.items()}
    record = model(status=Status.DRAFT, created_by=user)
    many = _apply(record, values)
    _hold_given_parents(record, fields)
    record._history_user = user
    record._change_reason = reason.strip() or "Created"
    _save_checked(record)
    for name, pks in many.items():
        getattr(record, name).set(pks)
    _contributed(record, user, ContributionKind.CREATED)
    return record


@transaction.atomic
def record_edit(
    *,
    record: Moderated,
    fields: dict[str, Any],
    user,
    expected_version: str | None = None,
    reason: str = "",
    verb: str = "Edited",
) -> EditResult:
    """Change ``record``'s content, the same way from every door.

    - A draft or rejected record is changed at once (a rejected one becomes a draft).
    - A published record is not changed: the change is kept as a suggestion that a
      different editor accepts or rejects (curation/revisions.py); readers keep
      seeing the published version until then.
    - A submitted or retracted record is refused (``RecordNotEditable``).

    Only the fields whose value differs from the record's current one count, so an
    old version re-posted from history is a change like any other. With
    ``expected_version`` (If-Match, the admin form's version) a record saved since
    the caller read it is refused with ``VersionConflict``.

    The history says what happened with ``verb`` ("Edited"; the admin's revert says
    "Reverted to the version of …"), then ``reason``, both kept in full.
    """
    current, changes = _edit_checked(record, fields, user, expected_version)
    if not changes:
        return EditResult(record=current)
    reason = reason.strip()
    if current.status == Status.PUBLISHED:
        from curation.revisions import suggestion_create

        # A suggestion's reason is its author's words; a revert says first that it is one.
        why = reason if verb == "Edited" else _reason(verb, reason)
        suggestion = suggestion_create(record=current, changes=changes, user=user, reason=why)
        return EditResult(record=current, changed=sorted(changes), suggestion=suggestion)
    many = _apply(current, {name: change["new"] for name, change in changes.items()})
    current.status = Status.DRAFT
    current._history_user = user
    current._change_reason = _reason(verb, reason)
    _save_checked(current)
    for name, pks in many.items():
        getattr(current, name).set(pks)
    _contributed(current, user, ContributionKind.EDITED)
    return EditResult(record=current, changed=sorted(changes))


def _edit_checked(
    record: Moderated, fields: dict[str, Any], user, expected_version: str | None
) -> tuple[Moderated, dict[str, dict[str, Any]]]:
    current = _locked(record, expected_version)
    changes = fields_changed(record=current, fields=fields)
    if changes:
        record_check_can_edit(record=current, user=user)
    return current, changes


@transaction.atomic
def record_edit_check(
    *, record: Moderated, fields: dict[str, Any], user, expected_version: str | None = None
) -> dict[str, dict[str, Any]]:
    """The checks ``record_edit`` makes, without writing: forms call it while they
    validate, so a refusal is shown on the form. Returns the changes it would make."""
    return _edit_checked(record, fields, user, expected_version)[1]


@transaction.atomic
def record_flag(*, record: Moderated, fields: dict[str, Any], user=None, reason: str) -> list[str]:
    """Set facts that come from outside the knowledge base directly on ``record``,
    whatever its status, without a suggestion: a publisher's retraction notice found by
    a scheduled check must reach readers at once, not after a review queue. Only the
    fields the model lists in ``flag_fields`` can be set this way; content never is.

    The change is saved in history with ``user`` (None for a command run by the
    system) and ``reason``; on a published record it opens a data version (revised,
    naming the fields), like an accepted suggestion. What the flag means for readers,
    and who reviews it, is the model's app's business (findings/retractions.py).
    Returns the names of the fields that changed (none: nothing written)."""
    model = type(record)
    allowed = set(getattr(model, "flag_fields", ()))
    refused = sorted(set(fields) - allowed)
    if refused:
        raise ValidationError(
            {name: [f"“{name}” is content: it changes only by an edit."] for name in refused}
        )
    if not reason.strip():
        raise ReviewNoteRequired("A flag needs a reason for the record's history.")
    current = _locked(record, None)
    changed = []
    for name, value in fields.items():
        model_field = model._meta.get_field(name)
        if model_field.is_relation:
            new = getattr(value, "pk", value)
        else:
            new = model_field.to_python(value)
        if getattr(current, model_field.attname) != new:
            setattr(current, model_field.attname, new)
            changed.append(name)
    if not changed:
        return []
    current.clean_fields(exclude=[f.name for f in model._meta.fields if f.name not in changed])
    _save(current, user=user, reason=reason.strip(), fields=changed)
    if current.status == Status.PUBLISHED:
        data_version_record(
            record=current, action=DataChangeAction.REVISED, fields=changed, note=reason.strip()
        )
    return sorted(changed)


@transaction.atomic
def record_reopen(
    *, record: Moderated, user, note: str = "", expected_version: str | None = None
) -> Moderated:
    """A rejected record goes back to being a draft of its author, to fix and submit
    again (editing it does the same)."""
    current = _locked(record, expected_version)
    _require_curator(current, user, "reopen")
    _require_status(current, TRANSITION_FROM["reopen"], "reopened")
    current.status = Status.DRAFT
    _save(current, user=user, reason=_reason("Reopened", note.strip()), fields=["status"])
    return current


@transaction.atomic
def record_restore(*, model: type[Moderated], pk: int, fields: dict[str, Any], user) -> Moderated:
    """Bring a deleted record back from its history, many-to-many links included, as a
    draft under its old id: it is reviewed again before readers see it."""
    if not record_can_edit(record=model, user=user):
        raise ReviewPermissionError(
            f"You may not restore a {model._meta.verbose_name}: only curators and editors can."
        )
    if model._default_manager.filter(pk=pk).exists():
        raise ReviewTransitionError(f"This {model._meta.verbose_name} exists; nothing to restore.")
    values = {name: _normalise(model, name, value) for name, value in fields.items()}
    record = model(pk=pk, status=Status.DRAFT, created_by=user)
    many = _apply(record, values)
    record._history_user = user
    record._change_reason = "Restored from history as a draft"
    _save_checked(record)
    for name, pks in many.items():
        # Links to records deleted since are dropped, not invented.
        target = record._meta.get_field(name).related_model
        getattr(record, name).set(target._default_manager.filter(pk__in=pks))
    _contributed(record, user, ContributionKind.RESTORED)
    return record


def record_can_delete(*, record: Moderated, user) -> bool:
    """Editors delete records readers have never seen; a curator deletes only their
    own drafts that were never submitted. Published and retracted records are
    retracted, never deleted: readers may hold links to them."""
    opts = record._meta
    if record.status in (Status.PUBLISHED, Status.RETRACTED):
        return False
    if user.has_perm(f"{opts.app_label}.delete_{opts.model_name}"):
        return True
    return (
        record.status == Status.DRAFT
        and record.created_by_id == user.pk
        and record.submitted_by_id is None
        and record_can_edit(record=record, user=user)
    )


# The transitions by name, for the admin actions and the API views.
TRANSITIONS = {
    "submit": record_submit,
    "reopen": record_reopen,
    "publish": record_publish,
    "reject": record_reject,
    "retract": record_retract,
}


def record_transitions_allowed(*, record: Moderated, user) -> list[str]:
    """The transitions ``user`` may make on ``record`` as it is, by name, for offering
    buttons: the same role, status and own-work rules as the transitions themselves,
    which judge again (under a lock) when one is made."""
    allowed = []
    for name, statuses in TRANSITION_FROM.items():
        if record.status not in statuses:
            continue
        if name in REVIEW_TRANSITIONS:
            if not record_can_review(record=record, user=user):
                continue
            if name == "publish" and record_wrote(record=record, user=user):
                continue
        elif not record_can_edit(record=record, user=user):
            continue
        allowed.append(name)
    return allowed
