"""Shared set-up for the browser tests (tests/test_browser_*.py): one Debian chromium
per test session, driven by Playwright for Python; screenshots go to screenshots/."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"


def require_chromium() -> None:
    """Skip without a browser, except in CI where a missing browser is a failure."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def has_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


# Rules whose violations fail a test: axe-core's two highest impacts.
SERIOUS_IMPACTS = ("serious", "critical")


def axe_violations(page, *, impacts=SERIOUS_IMPACTS) -> list[dict]:
    """Runs axe-core (bundled in the axe-playwright-python package, no download) on the
    page as it is now; returns the violations of the given impacts."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in impacts]


def axe_report(url: str, violations: list[dict]) -> str:
    """One line per violation and element: the rule, its impact, the element and where
    the rule is explained."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(
                f"{url}: {violation['id']} ({violation['impact']}) at {target}: "
                f"{violation['help']} — {violation['helpUrl']}\n"
                f"    {node['html'][:200]}\n    {node.get('failureSummary', '')[:400]}"
            )
    return "\n".join(lines)


@contextlib.contextmanager
def served_once(request, django_db_blocker, make_data: Callable[[], None]) -> Iterator:
    """A live server of the module's own and the data ``make_data()`` commits, made once
    before the module's first test and removed once after its last: the body of a
    module-scoped fixture, for a browser module whose tests only read. A test that asks
    for ``live_server`` is a transactional one, flushed after it, so the data was made
    again for every test.

    What each test sees stays the same. The tests run as plain database tests (mark
    them ``django_db``, without ``transaction=True``): each in a transaction rolled back
    after it, so the test itself cannot leave a change behind. The server cannot either:
    on PostgreSQL its connections are read-only (a page that wrote would fail), and on
    SQLite it shares the test's in-memory connection, so whatever it wrote is in the
    test's transaction and rolled back with it. After the module the database is put
    back as it was found, rows and primary keys: its content is serialized before the
    data is made, and after the flush (what a transactional test's teardown runs) it is
    loaded again, as Django's ``serialized_rollback`` does. The database is reachable only
    while a test that is marked for it runs, as usual. Such tests run with the
    transactional ones (tests/conftest.py ``pytest_collection_modifyitems``)."""
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.backends.signals import connection_created
    from django.test.utils import modify_settings
    from pytest_django.live_server_helper import LiveServer

    test_thread = threading.get_ident()

    def read_only(sender, connection, **kwargs) -> None:
        if connection.vendor == "postgresql" and threading.get_ident() != test_thread:
            with connection.cursor() as cursor:
                cursor.execute("SET default_transaction_read_only = on")

    address = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with django_db_blocker.unblock():
        found = connection.creation.serialize_db_to_string()
    try:
        with django_db_blocker.unblock():
            make_data()
        connection_created.connect(read_only)
        server = LiveServer(address)
        try:
            with modify_settings(ALLOWED_HOSTS={"append": server.thread.host}):
                yield server
        finally:
            server.stop()
            connection_created.disconnect(read_only)
    finally:
        with django_db_blocker.unblock():
            call_command(
                "flush",
                verbosity=0,
                interactive=False,
                reset_sequences=False,
                inhibit_post_migrate=True,
            )
            connection.creation.deserialize_db_from_string(found)
        # As after a transactional test: the next test gets a fresh connection. With
        # Playwright's event loop marked as running in this thread, Django keeps this
        # thread's connections apart from those made before the browser started; one left
        # open would keep PostgreSQL from dropping the test database at the end.
        for conn in connections.all(initialized_only=True):
            conn.close()
