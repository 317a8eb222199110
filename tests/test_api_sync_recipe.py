"""The recipe of docs/api.md ("Recipe: keeping a mirror current") runs as written,
against the app in this process (httpx over WSGI, no network): a first sync copies
everything, a retraction is dropped by the next, and a day without changes costs one
request answered 304."""

import re
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from curation.models import DataChangeAction
from curation.services import record_retract
from curation.versions import data_version_record
from tests.factories import make_evidence, make_finding

pytestmark = pytest.mark.django_db

DOC = Path(settings.BASE_DIR) / "docs" / "api.md"


def recipe() -> dict:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Recipe: keeping a mirror current", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    return namespace


@pytest.fixture
def client():
    # The raw WSGI app closes "old" connections around each request, which on PostgreSQL
    # would end the test's transaction (as in tests/test_api_contract.py).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with httpx.Client(
        transport=httpx.WSGITransport(app=get_wsgi_application()), base_url="http://testserver"
    ) as http:
        yield http
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def published(record):
    data_version_record(record=record, action=DataChangeAction.ADDED)
    return record


def test_the_documented_recipe_keeps_a_mirror_current(client, editor):
    mirror_sync = recipe()["mirror_sync"]
    kept = published(make_evidence())
    gone = published(make_evidence())
    finding = published(make_finding())
    mirror: dict = {}
    state: dict = {}

    assert mirror_sync(client, mirror, state) is True
    assert set(mirror["evidence"]) == {kept.pk, gone.pk}
    assert set(mirror["findings"]) == {finding.pk}
    assert kept.therapy.slug in mirror["therapies"]
    first_version = state["version"]

    record_retract(record=gone, user=editor, note="Misreported.")
    added = published(make_evidence())
    assert mirror_sync(client, mirror, state) is True
    assert set(mirror["evidence"]) == {kept.pk, added.pk}
    assert state["version"] > first_version

    requests = []
    client.event_hooks["request"] = [requests.append]
    assert mirror_sync(client, mirror, state) is False
    assert len(requests) == 1  # one call, answered 304
    assert set(mirror["evidence"]) == {kept.pk, added.pk}
