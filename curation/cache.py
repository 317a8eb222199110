"""The shared cache of public data, and its invalidation on publish.

Everything readers see that is worth caching (the matrix, conditional-GET ETags)
is stored under a key that includes the *public version*. Publishing bumps the
version, so every cached public value becomes unreachable at once, on every app
server sharing the cache (Redis in production, ``REDIS_URL``), with no need to know
which keys exist. Old entries expire by their timeout.

Entries also expire after ``PUBLIC_CACHE_SECONDS``: a safety net should an
invalidation ever be missed. Call ``public_cache_invalidate()`` from any service
that changes what readers see (publish, reject, retract, revert, merge, import);
saving or deleting a curated model through the ORM calls it too (see
``connect_invalidation_signals``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import transaction
from django.utils.module_loading import import_string

VERSION_KEY = "public:version"

logger = logging.getLogger(__name__)

T = TypeVar("T")


def public_cache_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # add() is atomic: two servers starting at once agree on one version.
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY)
    # None only when the cache is unreachable (its errors are ignored): then nothing
    # is stored anyway, and any version will do.
    return int(version or 1)


def _bump() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            # Not there yet (fresh cache, or evicted): any new value invalidates.
            cache.add(VERSION_KEY, 1, timeout=None)
            cache.incr(VERSION_KEY)
    except Exception:
        # The publish has committed: it must not fail for the cache's sake. Entries
        # expire after PUBLIC_CACHE_SECONDS at the latest.
        logger.exception("could not invalidate the public cache")


def public_cache_invalidate() -> None:
    """Make every cached public value stale, once the current transaction commits.

    After commit, not now: a reader between now and the commit would otherwise
    cache the old data under the new version.
    """
    transaction.on_commit(_bump)


def public_cache_warm_later() -> None:
    """Once the current transaction commits, queue one background task that fills the
    public caches again for the new version (``PUBLIC_CACHE_WARM_TASK``, a task of
    Django's task framework: mecfs_kb/warm.py), so that the first readers after a
    publish are not the ones who pay for it. Called once per data version (a publish, an
    accepted suggestion, a retraction, a batch: curation/versions.py).

    Queued, never run here: with Redis a worker runs it (``manage.py rqworker``). Nothing
    is queued when the cache is off (nothing to fill). A task that cannot be queued is
    logged; the publish has committed and stands."""
    if settings.PUBLIC_CACHE_SECONDS > 0 and settings.PUBLIC_CACHE_WARM_TASK:
        transaction.on_commit(_warm_enqueue)


def _warm_enqueue() -> None:
    try:
        import_string(settings.PUBLIC_CACHE_WARM_TASK).enqueue()
    except Exception:
        # Readers who come first compute what they need, as without the task.
        logger.exception("could not queue the warming of the public cache")


def public_cache_key(name: str, *parts: Any, version: int | None = None) -> str:
    version = public_cache_version() if version is None else version
    return ":".join(["public", str(version), name, *map(str, parts)])


def public_cache_get_or_set(name: str, compute: Callable[[], T], *parts: Any) -> T:
    """The cached value of ``compute()`` for the current public version (computed
    every time when ``PUBLIC_CACHE_SECONDS`` is 0)."""
    timeout = settings.PUBLIC_CACHE_SECONDS
    if timeout <= 0:
        return compute()
    key = public_cache_key(name, *parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=timeout)
    return value


def public_count(queryset) -> int:
    """``queryset.count()``, kept until the next publish: a list's pages share one
    count, and ``COUNT(*)`` over a literature-scale table is not run on every request.
    Only for what every reader sees alike (never for a curator's drafts)."""
    if settings.PUBLIC_CACHE_SECONDS <= 0:
        return queryset.count()
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return 0  # queryset.none(): nothing to count, nothing to run
    digest = hashlib.sha1(f"{queryset.db}|{sql}|{params!r}".encode()).hexdigest()
    return public_cache_get_or_set("count", queryset.count, digest)


def connect_invalidation_signals() -> None:
    """Any ORM save or delete of a record readers may see invalidates the public cache
    (admin edits, history reverts); a save of a record they neither saw nor will see (a
    curator's draft, its edits, its submission) does not. Bulk writes bypass signals:
    call ``public_cache_invalidate()`` after them."""
    from django.apps import apps
    from django.db.models import DEFERRED
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from curation.models import VISIBLE_STATUSES, Moderated

    def receiver(**kwargs) -> None:
        public_cache_invalidate()

    def saved(instance, created: bool, **kwargs) -> None:
        # A record that readers could not see before this save (new, or as read from
        # the database) and cannot see after it (a draft, submitted or rejected) changes
        # nothing they are shown: curators' drafts leave the public cache alone. Status
        # unknown (not read from the database, or deferred): invalidate.
        before = instance.as_read("status")
        unseen_before = created or (before is not DEFERRED and before not in VISIBLE_STATUSES)
        if not (unseen_before and instance.status not in VISIBLE_STATUSES):
            public_cache_invalidate()

    for model in apps.get_models():
        if issubclass(model, Moderated):
            post_save.connect(saved, sender=model, weak=False, dispatch_uid=f"pc-s-{model}")
            post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"pc-d-{model}")
            for field in model._meta.local_many_to_many:
                m2m_changed.connect(
                    receiver,
                    sender=field.remote_field.through,
                    weak=False,
                    dispatch_uid=f"pc-m-{model}-{field.name}",
                )
