"""SQLite's planner statistics follow the data (issue 14, curation/sqlite_statistics.py):
a table is analysed again after a publish when it has none and has grown past
MIN_ROWS, or when its row count has doubled or halved since. PostgreSQL: nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from curation.models import DataVersion, Status
from curation.services import record_publish, record_submit
from curation.sqlite_statistics import MIN_ROWS, refresh_sqlite_statistics, tables_to_analyze
from tests import factories

pytestmark = pytest.mark.django_db
TABLE = DataVersion._meta.db_table
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's statistics")


def analysed_rows(table: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        counts = [int(stat.split(" ", 1)[0]) for (stat,) in cursor.fetchall()]
    return max(counts) if counts else None


def forget_statistics() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # makes sqlite_stat1 exist, then empties it
        cursor.execute("DELETE FROM sqlite_stat1")


def add_versions(count: int) -> None:
    start = DataVersion.objects.count() + 1
    DataVersion.objects.bulk_create(DataVersion(number=n) for n in range(start, start + count))


@on_sqlite
def test_a_table_without_statistics_is_analysed_once_it_is_large_enough():
    forget_statistics()
    add_versions(MIN_ROWS - 1)
    assert TABLE not in tables_to_analyze()

    add_versions(1)
    assert TABLE in tables_to_analyze()
    assert TABLE in refresh_sqlite_statistics()
    assert analysed_rows(TABLE) == MIN_ROWS
    assert TABLE not in tables_to_analyze()


@on_sqlite
@pytest.mark.parametrize(
    ("analysed_at", "now", "stale"),
    [
        (2_000, 3_999, False),  # grown, less than twice
        (2_000, 4_000, True),  # doubled
        (2_000, 1_001, False),  # shrunk, less than half
        (2_000, 1_000, True),  # halved
        (10, 999, False),  # seed-sized before and after: not worth it
        (10, 1_000, True),  # grew from the seed past MIN_ROWS
    ],
)
def test_statistics_are_gathered_again_when_the_row_count_moves_far(analysed_at, now, stale):
    forget_statistics()
    add_versions(analysed_at)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    assert analysed_rows(TABLE) == analysed_at
    if now > analysed_at:
        add_versions(now - analysed_at)
    else:
        DataVersion.objects.filter(number__gt=now).delete()

    assert (TABLE in tables_to_analyze()) is stale
    refresh_sqlite_statistics()
    assert analysed_rows(TABLE) == (now if stale else analysed_at)


@on_sqlite
def test_a_publish_refreshes_the_statistics_after_it_commits(
    django_capture_on_commit_callbacks, curator, editor
):
    forget_statistics()
    add_versions(MIN_ROWS)
    therapy = factories.make_therapy(status=Status.DRAFT, created_by=curator)
    record_submit(record=therapy, user=curator)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_publish(record=therapy, user=editor)
    assert analysed_rows(TABLE) is None  # not inside the publishing transaction

    for callback in callbacks:
        callback()
    assert analysed_rows(TABLE) == MIN_ROWS + 1


def test_nothing_is_done_on_other_databases_and_nothing_raises(monkeypatch):
    if connection.vendor != "sqlite":
        assert tables_to_analyze() == []
        assert refresh_sqlite_statistics() == []
        return

    def broken(using="default"):
        raise RuntimeError("disk gone")

    monkeypatch.setattr("curation.sqlite_statistics.tables_to_analyze", broken)
    assert refresh_sqlite_statistics() == []
