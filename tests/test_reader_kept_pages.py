"""Reader pages read by statements compiled once (curation/statements.py, issue 14):
each page answers the same bytes as when every read is built and compiled by Django,
over published, retracted, held, draft and contradicted rows, and keeps its statements
once it has run."""

import pytest
from django.utils import timezone

from curation import statements
from curation.models import Status
from findings.models import Level, NoticeKind
from tests.factories import make_evidence, make_harm, make_regulatory_status, make_source, rate
from tests.test_api_fast_lists import build_mixed_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_templates():
    statements.forget_templates()
    yield
    statements.forget_templates()


@pytest.fixture
def data():
    data = build_mixed_data()
    one = data["therapy"]
    held = make_source(notice_kind=NoticeKind.RETRACTION, retracted=True)
    make_evidence(therapy=one, abnormality=None, source=held, level=Level.A)
    for status in (Status.PUBLISHED, Status.RETRACTED, Status.DRAFT):
        extra = {"reviewed_at": timezone.now(), "review_note": "Withdrawn."}
        extra = extra if status == Status.RETRACTED else {}
        make_harm(therapy=one, status=status, **extra)
        make_regulatory_status(therapy=one, status=status, **extra)
    rate()
    return data


def pages(data) -> list[str]:
    return [
        "/treatments/one/",
        "/treatments/two/",
        "/treatments/one/?format=csv",
    ]


def _read(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content


def test_a_page_answers_the_same_by_kept_statements(client, data, monkeypatch):
    urls = pages(data)
    kept = [_read(client, url) for url in urls]
    assert statements.kept("therapy page") and statements.kept("evidence links")
    again = [_read(client, url) for url in urls]  # the statements filled, not compiled
    monkeypatch.setattr(statements, "_kept", lambda *args: None)
    built = [_read(client, url) for url in urls]
    for url, mine, twice, theirs in zip(urls, kept, again, built, strict=True):
        assert mine == twice == theirs, url


def test_the_therapy_page_lists_what_its_data_holds(client, data):
    """The comparison above is not of two empty pages."""
    page = _read(client, "/treatments/one/").decode()
    for words in ("Withdrawn.", "Headache", "Argentina", "awaiting review"):
        assert words in page, words
    assert page.count('<div class="contradicted">') >= 2
