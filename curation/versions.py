"""The data version: what readers see moves to a new number on every publish, accepted
suggestion or retraction, and each number lists what it changed (``/changes/``).

The services call ``data_version_record`` inside their transaction, so a version exists
exactly when its change committed. Each call opens a new version, unless it runs inside
``data_version_batch()``: then every change made in the block shares one version (one
paper published with its claims, say).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Max

from curation.cache import (
    public_cache_get_or_set,
    public_cache_invalidate,
    public_cache_warm_later,
)
from curation.models import DataChange, DataChangeAction, DataVersion
from curation.prepared import prepared
from curation.sqlite_statistics import refresh_sqlite_statistics
from curation.statements import template_rows


@dataclass
class _Batch:
    version: DataVersion | None = None
    changes: list[RecordChange] = field(default_factory=list)


_batch: ContextVar[_Batch | None] = ContextVar("data_version_batch", default=None)


@dataclass(frozen=True)
class RecordChange:
    """What a data version did to one record, for the apps that keep something derived
    from what readers see (``data_version_subscribe``)."""

    record: models.Model
    action: str
    fields: tuple[str, ...] = ()


_subscribers: list[Callable[[list[RecordChange]], None]] = []


def data_version_subscribe(callback: Callable[[list[RecordChange]], None]) -> None:
    """Call ``callback(changes)`` whenever what readers see changes: after each publish,
    accepted suggestion or retraction, in its transaction, or once at the end of a
    ``data_version_batch()`` with all of its changes. An app registers it in its
    ``AppConfig.ready`` (treatments recomputes its certainty ratings), so that this
    module needs to know no domain model. Registering twice is harmless."""
    if callback not in _subscribers:
        _subscribers.append(callback)


def _notify(changes: list[RecordChange]) -> None:
    for callback in list(_subscribers):
        callback(changes)


def _new_version(using: str) -> DataVersion:
    for _ in range(20):
        number = (DataVersion.objects.using(using).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            # Two publishes at once both read the same maximum: the unique number makes
            # the second wait for the first, fail here, and read the new maximum.
            with transaction.atomic(using=using):
                version = DataVersion.objects.using(using).create(number=number)
            # Saving the record does this too; said here so that the cached current
            # version (data_version_of) can never outlive the opening of a new one.
            public_cache_invalidate()
            # Then, in the background, the caches are filled for the new version.
            public_cache_warm_later()
            # SQLite's planner statistics follow the data's growth (PostgreSQL: no-op).
            if connections[using].vendor == "sqlite":
                transaction.on_commit(lambda: refresh_sqlite_statistics(using), using=using)
            return version
        except IntegrityError:
            continue
    raise RuntimeError("Could not open a new data version; try again.")  # pragma: no cover


@contextmanager
def data_version_batch() -> Iterator[None]:
    """Changes recorded inside the block share one data version (opened by the first)."""
    if _batch.get() is not None:
        yield  # already inside a batch: join it
        return
    batch = _Batch()
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    # Reached only when the block succeeded: what it changed is told once, together.
    if batch.changes:
        _notify(batch.changes)


def data_version_record(
    *,
    record: models.Model,
    action: DataChangeAction | str,
    fields: Iterable[str] = (),
    note: str = "",
) -> DataChange:
    """Note that ``record`` was added (published), revised (``fields``) or retracted,
    in a new data version (or the current batch's). Call it inside the transaction
    that makes the change."""
    using = record._state.db or "default"
    batch = _batch.get()
    if batch is None:
        version = _new_version(using)
    else:
        if batch.version is None:
            batch.version = _new_version(using)
        version = batch.version
    fields = sorted(fields)
    change = DataChange.objects.using(using).create(
        version=version,
        content_type=ContentType.objects.db_manager(using).get_for_model(type(record)),
        object_id=record.pk,
        action=action,
        label=str(record)[:300],
        fields=fields,
        note=note,
    )
    told = RecordChange(record=record, action=str(action), fields=tuple(fields))
    if batch is None:
        _notify([told])
    else:
        batch.changes.append(told)
    return change


def data_version_current(using: str = "default") -> DataVersion | None:
    """The newest data version, or None before anything was ever published."""
    return DataVersion.objects.using(using).order_by("-number").first()


# ---------------------------------------------------------------------------
# Reading it: once per request, and only by responses that show it
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionStamp:
    """The data version a response shows: 0 (and no date) before anything was ever
    published."""

    number: int
    created_at: datetime.datetime | None


_STAMP_ATTRIBUTE = "_data_version_stamp"


def data_version_of(request) -> VersionStamp:
    """The current data version for this request: read at first use (one query on the
    unique index of ``number``, or none from the public cache) and kept for the rest
    of the request, so that the page footer, a list's ``data_version``, the ETag and
    the ``X-Data-Version`` header all name the same version. Accepts Django's request
    or DRF's (which wraps it)."""
    request = getattr(request, "_request", request)
    stamp = getattr(request, _STAMP_ATTRIBUTE, None)
    if stamp is None:
        # Kept in the public cache when it is on: a new version is only ever recorded
        # with a save of a curated record, and that makes the public cache stale
        # (curation/cache.py), so the cached number is never older than the data.
        stamp = public_cache_get_or_set("data-version", _read_stamp)
        setattr(request, _STAMP_ATTRIBUTE, stamp)
    return stamp


def _newest_version(_):
    return DataVersion.objects.order_by("-number").values_list("number", "created_at")[:1]


def _read_stamp() -> VersionStamp:
    # The same statement every request, compiled once (curation/statements.py): 0.15 ms
    # instead of 0.3 for the query built, compiled and prepared each time.
    alias = DataVersion.objects.db
    rows = template_rows(("data version",), _newest_version, [], alias)
    if rows is None:
        with prepared():  # curation/prepared.py
            rows = list(_newest_version([]))
    return VersionStamp(*rows[0]) if rows else VersionStamp(0, None)


def data_version_was_read(request) -> bool:
    return hasattr(getattr(request, "_request", request), _STAMP_ATTRIBUTE)


def data_changes_link(changes: Iterable[DataChange]) -> None:
    """Set ``public_url`` on each change: the record's public page when its model has
    one (``get_absolute_url``) and readers may see it now (``.published()``), else
    ``None``. One query per kind of record, however many changes there are; the
    changes must come with their ``content_type`` (``select_related``)."""
    changes = list(changes)
    ids_by_type: dict[ContentType, set[int]] = defaultdict(set)
    for change in changes:
        change.public_url = None
        ids_by_type[change.content_type].add(change.object_id)
    urls: dict[tuple[int, int], str] = {}
    for content_type, ids in ids_by_type.items():
        model = content_type.model_class()
        if model is None or not hasattr(model, "get_absolute_url"):
            continue
        records = model._default_manager.all()
        if not hasattr(records, "published"):
            continue  # visibility unknown: no link rather than a link to a hidden record
        for record in records.published().filter(pk__in=ids):
            urls[content_type.pk, record.pk] = record.get_absolute_url()
    for change in changes:
        change.public_url = urls.get((change.content_type_id, change.object_id))
