"""SQLite's planner statistics kept in step with the data (issue 14).

SQLite plans from ``sqlite_stat1``, which only ``ANALYZE`` writes. The migrations run it
(treatments 0018) when a new database is still empty, so a knowledge base that grew by
publishing and importing kept the statistics of an empty one, or none: the planner then
guesses, and took the status index (most rows) where a selective index was there,
which made a therapy's page read every published item at 100,000 items (2 s instead of
0.2 s). ``PRAGMA optimize`` does not help on the SQLite that Python ships here (3.40):
it never analyses a table that has no statistics yet.

After each new data version commits (curation/versions.py), a table is analysed again
when its row count has moved far from the count its statistics were taken at: it has
none and holds ``MIN_ROWS`` or more, or it has grown or shrunk by ``FACTOR``. So a
database growing from the seed to 100,000 items is analysed a handful of times in its
life, each time on the tables that grew; the row counts cost one ``COUNT(*)`` per table
(an index scan: a few ms at 100,000 rows). PostgreSQL gathers its own (autovacuum):
nothing is done there.
"""

from __future__ import annotations

import logging

from django.db import connections

logger = logging.getLogger(__name__)

# Below this, the planner's guesses cost nothing that matters.
MIN_ROWS = 1_000
# Analysed again when the row count is this many times larger, or smaller.
FACTOR = 2


def tables_to_analyze(using: str = "default") -> list[str]:
    """The tables whose statistics are missing or far from their row count."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1' AND type = 'table'"
        )
        have_stat_table = cursor.fetchone() is not None
        known: dict[str, int] = {}
        if have_stat_table:
            # The first number of each index's line is the table's row count when
            # analysed (a table without an index has one line with no index name).
            cursor.execute("SELECT tbl, stat FROM sqlite_stat1")
            for table, stat in cursor.fetchall():
                first = (stat or "").split(" ", 1)[0]
                if first.isdigit():
                    known[table] = max(known.get(table, 0), int(first))
        stale = []
        for table in connection.introspection.table_names(cursor):
            if table.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
            rows = cursor.fetchone()[0]
            before = known.get(table, 0)
            if max(rows, before) < MIN_ROWS:
                continue
            if not before or rows >= before * FACTOR or rows * FACTOR <= before:
                stale.append(table)
        return stale


def refresh_sqlite_statistics(using: str = "default") -> list[str]:
    """``ANALYZE`` the tables that need it (see the module); returns their names. Never
    raises: statistics make queries faster, and their absence is no error."""
    try:
        stale = tables_to_analyze(using)
        if stale:
            connection = connections[using]
            with connection.cursor() as cursor:
                for table in stale:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
            logger.info("SQLite statistics gathered again for %s", ", ".join(stale))
        return stale
    except Exception:
        logger.exception("could not refresh SQLite's statistics")
        return []
