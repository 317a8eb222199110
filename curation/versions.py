"""The data version: what readers see moves to a new number on every publish, accepted
suggestion or retraction, and each number lists what it changed (``/changes/``).

The services call ``data_version_record`` inside their transaction, so a version exists
exactly when its change committed. Each call opens a new version, unless it runs inside
``data_version_batch()``: then every change made in the block shares one version (one
paper published with its claims, say).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Max

from curation.models import DataChange, DataChangeAction, DataVersion

_batch: ContextVar[list[DataVersion | None] | None] = ContextVar("data_version_batch", default=None)


def _new_version(using: str) -> DataVersion:
    for _ in range(20):
        number = (DataVersion.objects.using(using).aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            # Two publishes at once both read the same maximum: the unique number makes
            # the second wait for the first, fail here, and read the new maximum.
            with transaction.atomic(using=using):
                return DataVersion.objects.using(using).create(number=number)
        except IntegrityError:
            continue
    raise RuntimeError("Could not open a new data version; try again.")  # pragma: no cover


@contextmanager
def data_version_batch() -> Iterator[None]:
    """Changes recorded inside the block share one data version (opened by the first)."""
    if _batch.get() is not None:
        yield  # already inside a batch: join it
        return
    token = _batch.set([None])
    try:
        yield
    finally:
        _batch.reset(token)


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
        if batch[0] is None:
            batch[0] = _new_version(using)
        version = batch[0]
    return DataChange.objects.using(using).create(
        version=version,
        content_type=ContentType.objects.db_manager(using).get_for_model(type(record)),
        object_id=record.pk,
        action=action,
        label=str(record)[:300],
        fields=sorted(fields),
        note=note,
    )


def data_version_current(using: str = "default") -> DataVersion | None:
    """The newest data version, or None before anything was ever published."""
    return DataVersion.objects.using(using).order_by("-number").first()
