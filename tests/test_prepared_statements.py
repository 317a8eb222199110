"""Prepared statements on PostgreSQL (curation/prepared.py, mecfs_kb/postgresql/base.py,
``PG_PREPARED_STATEMENTS``; docs/performance.md "Prepared statements"): the parameters are
sent apart from the query; the reads by key run ``with prepared():`` are prepared on
their connection and planned once, and no other statement is, however often it runs (a
generic plan of a list filtered by a skewed value was 30 times slower). Off with
PG_PREPARED_STATEMENTS=0, for a pooler that cannot keep them."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from curation.models import Status
from curation.prepared import is_prepared, prepared
from tests import factories

only_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _options(**environment) -> list[dict]:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.DATABASES[a].get('OPTIONS', {}) for a in "
        "('default', 'replica_0')]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mecfs_kb.settings",
        "DEBUG": "1",
        "DATABASE_URL": "postgres://u@db:5432/kb",
        "REPLICA_DATABASE_URLS": "postgres://u@r0:5432/kb",
        **environment,
    }
    if "PG_PREPARED_STATEMENTS" not in environment:
        env.pop("PG_PREPARED_STATEMENTS", None)  # the default
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_postgresql_connections_bind_on_the_server_and_prepare_unless_told_not_to():
    default, replica = _options()
    assert default["server_side_binding"] is True and default["prepare_threshold"] == 0
    assert replica == default  # a replica connects as the primary does
    for off in ("0", "false", "off"):
        default, replica = _options(PG_PREPARED_STATEMENTS=off)
        assert "server_side_binding" not in default and "prepare_threshold" not in default
        assert "server_side_binding" not in replica


def test_a_setting_that_is_not_a_yes_or_no_stops_the_app_with_its_name():
    with pytest.raises(subprocess.CalledProcessError) as error:
        _options(PG_PREPARED_STATEMENTS="maybe")
    assert "ImproperlyConfigured" in error.value.stderr
    assert "PG_PREPARED_STATEMENTS" in error.value.stderr


def test_sqlite_has_no_such_options():
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mecfs_kb.settings", "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert "server_side_binding" not in json.loads(result.stdout)


def test_prepared_says_so_inside_only():
    assert not is_prepared()
    with prepared():
        assert is_prepared()
        with prepared():
            assert is_prepared()
        assert is_prepared()
    assert not is_prepared()


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@only_postgresql
@pytest.mark.django_db
def test_only_what_runs_with_prepared_is_prepared():
    assert connection.features.uses_server_side_binding
    with connection.cursor() as cursor:
        for n in range(10):  # psycopg's own rule would prepare this after 5 runs
            cursor.execute("SELECT %s::int + 1 AS planned_each_time", [n])
    assert not any("planned_each_time" in s for s in _prepared_statements())
    with connection.cursor() as cursor, prepared():
        cursor.execute("SELECT %s::int + 2 AS planned_once", [1])
        assert cursor.fetchone() == (3,)
    assert any("planned_once" in s for s in _prepared_statements())
    # Several statements in one cannot be prepared: run as they are, even inside.
    with connection.cursor() as cursor, prepared():
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")
    assert not any("SET CONSTRAINTS" in s for s in _prepared_statements())


@only_postgresql
@pytest.mark.django_db
def test_a_list_is_planned_each_time_and_its_reads_by_key_once(api_client):
    """Through the API: the stored count, the links of the page and the data version are
    prepared; the page of a filtered list, whose best plan depends on the value, is not.
    The answers do not change."""
    therapy = factories.make_therapy(slug="prepared")
    first_item = factories.make_evidence(therapy=therapy)
    factories.make_evidence(therapy=therapy, status=Status.DRAFT)
    later = factories.make_evidence(therapy=therapy)
    later.contradicted_by.add(first_item)
    factories.rate()
    url = "/api/v1/evidence/"
    first = api_client.get(url, {"therapy": "prepared", "level": "B"})
    bodies = {api_client.get(url, {"therapy": "prepared", "level": "B"}).content for _ in range(8)}
    assert first.status_code == 200 and len(first.json()["results"]) == 2
    assert bodies == {first.content}
    found = _prepared_statements()
    assert any("curation_dataversion" in s for s in found)
    assert any("treatments_therapyevidence_contradicted_by" in s for s in found)
    assert not any(s.lstrip().startswith('SELECT "treatments_therapyevidence"."id"') for s in found)


@only_postgresql
@pytest.mark.django_db
def test_a_records_own_reads_are_prepared(api_client):
    """A therapy by its slug, with its harms (read by the therapy's key): prepared."""
    therapy = factories.make_therapy(slug="prepared")
    factories.make_harm(therapy=therapy)
    response = api_client.get("/api/v1/therapies/prepared/")
    assert response.status_code == 200 and len(response.json()["harms"]) == 1
    found = _prepared_statements()
    assert any(s.lstrip().startswith('SELECT "treatments_therapy"') for s in found)
    assert any('FROM "treatments_harm"' in s for s in found)


@only_postgresql
@pytest.mark.django_db
def test_a_bulk_write_larger_than_one_statement_takes_is_cut_into_several(
    django_assert_num_queries,
):
    """Bound on the server, a statement takes at most 65,535 parameters: 40,000 rows of
    two columns are written in two statements (Django 5.2 sent them in one, refused)."""
    from curation.models import DataVersion

    assert connection.features.max_query_params == 2**16 - 1
    rows = [DataVersion(number=1_000_000 + n) for n in range(40_000)]
    with django_assert_num_queries(2):
        DataVersion.objects.bulk_create(rows)
    assert DataVersion.objects.filter(number__gte=1_000_000).count() == 40_000
    # And deleted in batches under the limit too.
    DataVersion.objects.filter(number__gte=1_000_000).delete()
    assert not DataVersion.objects.filter(number__gte=1_000_000).exists()
