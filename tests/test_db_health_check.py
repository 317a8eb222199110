"""The database health check (CONN_HEALTH_CHECKS) is made after a pause, not on every
request (mecfs_kb/postgresql/base.py): PostgreSQL only."""

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backend only"),
]


@pytest.fixture
def fresh_connection(monkeypatch):
    """A connection of its own, with each health check counted."""
    conn = connections.create_connection("default")
    assert conn.settings_dict["CONN_HEALTH_CHECKS"]
    conn.ensure_connection()
    conn.checks = 0
    usable = conn.is_usable

    def counted():
        conn.checks += 1
        return usable()

    monkeypatch.setattr(conn, "is_usable", counted)
    yield conn
    conn.close()


def request(conn):
    """What a request does to the connection: Django's start and end, one query between."""
    conn.close_if_unusable_or_obsolete()
    with conn.cursor() as cursor:
        cursor.execute("SELECT 2")
    conn.close_if_unusable_or_obsolete()


def test_postgresql_databases_use_the_backend_that_checks_after_a_pause():
    assert connection.settings_dict["ENGINE"] == "mecfs_kb.postgresql"
    assert connection.vendor == "postgresql"


def test_a_connection_that_answered_a_moment_ago_is_not_checked_again(fresh_connection):
    request(fresh_connection)
    request(fresh_connection)
    request(fresh_connection)
    assert fresh_connection.checks == 0


def test_a_connection_idle_for_a_while_is_checked_before_its_next_query(fresh_connection):
    request(fresh_connection)
    fresh_connection.answered_at -= 60  # as if it had sat idle for a minute
    request(fresh_connection)
    assert fresh_connection.checks == 1
    request(fresh_connection)  # and then it has answered again
    assert fresh_connection.checks == 1


def test_a_connection_found_dead_by_the_check_is_replaced(fresh_connection):
    request(fresh_connection)
    fresh_connection.answered_at -= 60
    old = fresh_connection.connection
    old.close()  # the server went away while the connection sat idle
    request(fresh_connection)
    assert fresh_connection.checks == 1
    assert fresh_connection.connection is not old
