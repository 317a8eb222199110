import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from tests import factories, network_guard, template_db
from tests.lookup_recordings import services  # noqa: F401  (the lookup services' recordings)

# Before any test runs, and for all of them: no test reaches beyond this machine.
network_guard.install()


def pytest_collection_modifyitems(items):
    """pytest-django runs the plain database tests first, then the transactional ones
    (whose flush empties the tables the migrations filled), then the rest. A browser
    test that is a plain database test reads a module's data committed by
    tests/browser.py ``served_once``, and its browser (Playwright's event loop in this
    thread) stays up for the rest of the session: it runs with the transactional tests,
    as a browser test that asks for ``live_server`` does, so the plain tests before
    them still run as they did. A stable sort: the order within each group is kept."""
    from pytest_django.fixtures import validate_django_db

    def group(item) -> int:
        marker = item.get_closest_marker("django_db")
        transaction, reset_sequences, *_ = validate_django_db(marker) if marker else (False,) * 5
        names = item.fixturenames
        if (
            transaction
            or reset_sequences
            or {"transactional_db", "live_server"} & set(names)
            or (marker and item.get_closest_marker("browser"))
        ):
            return 1
        return 0 if marker or "db" in names else 2

    items.sort(key=group)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The tests' PostgreSQL sessions do not wait for the commit record to reach the disk
    (``synchronous_commit = off``, set per session in the connection options, here only:
    the production settings and the server's configuration are untouched). What a commit
    makes visible, and when, is unchanged; only a crash of the server could lose the last
    commits of a test database that is thrown away anyway."""
    from django.conf import settings

    for database in settings.DATABASES.values():
        if database["ENGINE"].endswith("postgresql"):
            options = database.setdefault("OPTIONS", {})
            options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's fixture, except that the test database is a copy of one migrated
    template (tests/template_db.py) rather than migrated again in every xdist worker and
    in the contract run. With --reuse-db or --no-migrations, or with more than one
    database, pytest-django's own way."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    ours = (
        django_db_use_migrations
        and not django_db_keepdb
        and list(connections.settings) == ["default"]
        and aliases <= {"default"}
        and not serialized_aliases
    )
    with django_db_blocker.unblock():
        if ours:
            connection = connections["default"]
            db_cfg = [(connection, template_db.create_test_db(connection, verbosity), True)]
        else:
            if not django_db_use_migrations:
                from pytest_django.fixtures import _disable_migrations

                _disable_migrations()
            db_cfg = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                **({"keepdb": True} if django_db_keepdb and not django_db_createdb else {}),
            )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=verbosity)


@pytest.fixture
def curator(db):
    return factories.make_curator()


@pytest.fixture
def editor(db):
    return factories.make_editor()


@pytest.fixture
def curator_client(curator):
    client = Client()
    client.force_login(curator)
    return client


@pytest.fixture
def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture(autouse=True, scope="session")
def _no_collected_static_files(tmp_path_factory):
    """No test needs collected static files (a fresh checkout has none), but a
    ``staticfiles/`` left by ``make serve``, or by the collectstatic that
    tests/test_faults.py runs for its gunicorn on PostgreSQL, was read file by file
    (711 files) by WhiteNoise's middleware each time a test client built its handler:
    every test after it paid about 0.05 s per client. The tests' STATIC_ROOT is an
    empty folder instead, as in a fresh checkout; the production setting is unchanged,
    and so is what test_faults' gunicorn serves."""
    from django.conf import settings

    before = settings.STATIC_ROOT
    settings.STATIC_ROOT = tmp_path_factory.mktemp("static_root")
    yield
    settings.STATIC_ROOT = before


@pytest.fixture(autouse=True)
def _cold_content_type_cache():
    """Pinned query counts must not depend on which test warmed the cache first."""
    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made in many tests; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_api_throttles():
    """API throttles count requests in the cache: each test starts with a clean count."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api_client():
    """An anonymous API client (no token)."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def token_client_for(db):
    """``token_client_for(user)``: an API client sending ``Authorization: Token <key>``."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make


@pytest.fixture
def curator_api(curator, token_client_for):
    return token_client_for(curator)


@pytest.fixture
def editor_api(editor, token_client_for):
    return token_client_for(editor)


@pytest.fixture(scope="session")
def schema_response(django_db_setup, django_db_blocker):
    """The response to ``GET /api/v1/schema/?format=json``, once per test process:
    drf-spectacular makes the schema again for each request (about a second), from the
    code and the settings alone, and the tests that read it only read it (each parses
    its own copy). The request's queries are rolled back."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        response = Client().get("/api/v1/schema/?format=json")
        transaction.set_rollback(True)
    return response


@pytest.fixture(scope="session")
def browser():
    """One Debian chromium for the session's browser tests (tests/browser.py), shared by
    every module: Playwright's sync API allows one running instance per thread."""
    import os

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # the tests themselves are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
