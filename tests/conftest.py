import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from tests import factories, network_guard
from tests.lookup_recordings import services  # noqa: F401  (the lookup services' recordings)

# Before any test runs, and for all of them: no test reaches beyond this machine.
network_guard.install()


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
