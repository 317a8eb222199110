import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from tests import factories


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
