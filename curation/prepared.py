"""Which statements PostgreSQL keeps prepared (issue 14; docs/performance.md, "Prepared
statements").

Planning took most of a short read's time on PostgreSQL: 0.5-0.8 ms of a link read's
0.6-0.9 ms on the seed, every request. A statement run ``with prepared():`` is prepared
on its connection the first time and planned once there (mecfs_kb/postgresql/base.py,
``PG_PREPARED_STATEMENTS``). After a few runs PostgreSQL may keep one generic plan for
every value. For a read by key that is the plan any key gets (an index lookup); for a
list filtered by a value whose rows are skewed it is not: a generic plan of the evidence
of one therapy at level B or better (9,000 of 500,000 items) sorted all of them, 45 ms
instead of 1.5. So only statements whose plan cannot depend on their values are run
here: reads by key or by a list of keys (curation/statements.py, the links of a record,
a record by its id or slug, a token), and the current data version. Everything else is
planned each time, as before. SQLite and other databases ignore it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_PREPARED: ContextVar[bool] = ContextVar("prepared", default=False)


@contextmanager
def prepared() -> Iterator[None]:
    """Statements run inside are prepared on PostgreSQL (reads by key only: above)."""
    token = _PREPARED.set(True)
    try:
        yield
    finally:
        _PREPARED.reset(token)


def is_prepared() -> bool:
    """Whether a statement run now is to be prepared (``prepared()``)."""
    return _PREPARED.get()
