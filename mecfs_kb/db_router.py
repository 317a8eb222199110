"""Read replicas: reads go to a replica, writes and reads-after-write to the primary.

Replicas are configured with ``REPLICA_DATABASE_URLS`` (comma-separated); settings
turn each into a database alias listed in ``DATABASE_REPLICAS``. Without replicas
this router is not installed and everything uses ``default``.

A replica lags the primary by a little. So a request reads from the primary:
- once it has written anything (``db_for_write`` pins the rest of the request);
- inside a transaction on the primary (an atomic block reads what it will write);
- when its method is not GET/HEAD/OPTIONS (a form post reads, then writes);
- for ``REPLICA_PIN_SECONDS`` after a request of the same client wrote, through a
  cookie, so a curator redirected after saving sees the saved record.
"""

from __future__ import annotations

import random
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

PRIMARY = DEFAULT_DB_ALIAS
PIN_COOKIE = "kb_primary"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_pinned: ContextVar[bool] = ContextVar("read_from_primary", default=False)
_wrote: ContextVar[bool] = ContextVar("wrote_to_primary", default=False)


class PrimaryReplicaRouter:
    def _replicas(self) -> list[str]:
        return list(getattr(settings, "DATABASE_REPLICAS", []))

    def db_for_read(self, model, **hints) -> str:
        replicas = self._replicas()
        if not replicas or _pinned.get() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        # Random per query: stateless, and spreads load without a shared counter.
        return random.choice(replicas)

    def db_for_write(self, model, **hints) -> str:
        _pinned.set(True)
        _wrote.set(True)
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Replicas hold the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # Replicas get the schema by replication, never by migrate.
        return db == PRIMARY


class PrimaryPinMiddleware:
    """Starts each request unpinned, pins unsafe methods and recent writers, and tells
    the client when it has written."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pinned = request.method not in SAFE_METHODS or PIN_COOKIE in request.COOKIES
        pinned_token = _pinned.set(pinned)
        wrote_token = _wrote.set(False)
        try:
            response = self.get_response(request)
            if _wrote.get() and getattr(settings, "DATABASE_REPLICAS", []):
                response.set_cookie(
                    PIN_COOKIE,
                    "1",
                    max_age=settings.REPLICA_PIN_SECONDS,
                    httponly=True,
                    samesite="Lax",
                    secure=request.is_secure(),
                )
            return response
        finally:
            _pinned.reset(pinned_token)
            _wrote.reset(wrote_token)
