"""Prepared statements on PostgreSQL (mecfs_kb/settings.py ``PG_PREPARE_THRESHOLD``,
docs/performance.md "Prepared statements"): the parameters are sent apart from the query,
and a statement run often enough on a connection is prepared there, so PostgreSQL plans
it once. Off with an empty PG_PREPARE_THRESHOLD, for a pooler that cannot keep them."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from curation.models import Status
from tests import factories

only_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _options(**environment) -> dict:
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
    if "PG_PREPARE_THRESHOLD" not in environment:
        env.pop("PG_PREPARE_THRESHOLD", None)  # the default
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_postgresql_connections_prepare_what_they_run_often_unless_told_not_to():
    default, replica = _options()
    assert default["server_side_binding"] is True and default["prepare_threshold"] == 5
    assert replica == default  # a replica connects as the primary does
    default, _ = _options(PG_PREPARE_THRESHOLD="0")
    assert default["prepare_threshold"] == 0  # from the first run
    for off in ("", " "):
        default, replica = _options(PG_PREPARE_THRESHOLD=off)
        assert "server_side_binding" not in default and "prepare_threshold" not in default
        assert "server_side_binding" not in replica


@pytest.mark.parametrize("value", ["five", "1.5", "-1"])
def test_a_threshold_that_is_not_a_count_stops_the_app_with_its_name(value):
    with pytest.raises(subprocess.CalledProcessError) as error:
        _options(PG_PREPARE_THRESHOLD=value)
    assert "ImproperlyConfigured" in error.value.stderr
    assert "PG_PREPARE_THRESHOLD" in error.value.stderr


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
    assert "prepare_threshold" not in json.loads(result.stdout)


@only_postgresql
@pytest.mark.django_db
def test_a_read_run_often_is_prepared_and_answers_as_before(api_client):
    """The tests' own connection is configured as production's: after a few runs of the
    same list the server holds its statements prepared, and the answers do not change."""
    therapy = factories.make_therapy(slug="prepared")
    factories.make_evidence(therapy=therapy)
    factories.make_evidence(therapy=therapy, status=Status.DRAFT)
    assert connection.features.uses_server_side_binding
    first = api_client.get("/api/v1/evidence/", {"therapy": "prepared"})
    bodies = [
        api_client.get("/api/v1/evidence/", {"therapy": "prepared"}).content for _ in range(7)
    ]
    assert first.status_code == 200 and len(first.json()["results"]) == 1
    assert set(bodies) == {first.content}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= 1
