"""Django's PostgreSQL backend, asking "are you there?" only after a pause, and
preparing the statements run ``with prepared():`` (curation/prepared.py).

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of
every request that reuses a connection: one more round trip per request, to learn
what the request before, a moment ago on the same connection, showed already. Here
that check is skipped while the connection answered a request without error less
than ``HEALTHY_FOR_SECONDS`` ago, and made as before after a pause (when a server
restart, a failover or an idle timeout may have closed it unseen).

What a skipped check can cost: a connection closed by the server in the last second
is found dead by the request's first query instead of by the check. That request
answers 503 (mecfs_kb/faults.py), Django drops the connection at its end, and the
next request connects afresh: at most one failed request per connection, when the
database went away under load, which fails the requests in flight anyway.
"""

from __future__ import annotations

import time
from itertools import chain

from django.db import models
from django.db.backends.postgresql import base, features, operations
from django.utils.functional import cached_property

from curation.prepared import is_prepared

# Long enough to cover a busy server's back-to-back requests, short enough that a
# connection idle for longer is checked as before.
HEALTHY_FOR_SECONDS = 1.0


class PreparingCursor(base.ServerBindingCursor):
    """With the parameters bound on the server (``server_side_binding``): a statement run
    ``with prepared():`` is prepared on its connection at its first run; every other one
    is not, however often it runs (psycopg would prepare any after a few runs, and
    PostgreSQL may then plan it once for every value: curation/prepared.py)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if prepare is None:
            # Never several statements in one ("SET CONSTRAINTS …; SET …"): PostgreSQL
            # cannot prepare them.
            prepare = is_prepared() and not (isinstance(query, str) and ";" in query)
        return super().execute(query, params, prepare=prepare, binary=binary)


# Bound on the server, a statement takes at most 65,535 parameters (the protocol counts
# them in 16 bits; bound on the client there was no such limit). Django 5.2 knows of no
# limit on PostgreSQL, so it would send a bulk write larger than that as one statement,
# refused (a recompute of every rating at 100k items: 7,951 rows of 27 columns); here
# Django cuts it into statements under the limit, as it does on SQLite (a later Django sets the same
# max_query_params: its ticket 36822).
SERVER_BINDING_MAX_PARAMS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self):
        return SERVER_BINDING_MAX_PARAMS if self.uses_server_side_binding else None


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs):
        limit = self.connection.features.max_query_params
        if limit is None:
            return super().bulk_batch_size(fields, objs)
        columns = list(
            chain.from_iterable(
                field.fields if isinstance(field, models.CompositePrimaryKey) else [field]
                for field in fields
            )
        )
        return max(limit // max(len(columns), 1), 1)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
    answered_at: float = float("-inf")

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("cursor_factory") is base.ServerBindingCursor:
            params["cursor_factory"] = PreparingCursor
        return params

    def close_if_unusable_or_obsolete(self):
        # Called when a request starts and when it ends. At the end, a connection whose
        # check was done (or skipped) this request was used by it; without an error
        # since, it answered: remember when.
        if self.connection is not None and self.health_check_done and not self.errors_occurred:
            self.answered_at = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.errors_occurred
            and time.monotonic() - self.answered_at < HEALTHY_FOR_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
