import pytest

from tests import factories


@pytest.fixture
def curator(db):
    return factories.make_curator()


@pytest.fixture
def editor(db):
    return factories.make_editor()


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
