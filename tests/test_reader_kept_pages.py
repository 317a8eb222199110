"""Reader pages (and the API's therapies) read by statements compiled once
(curation/statements.py, issue 14): each answers the same bytes as when every read is
built and compiled by Django, over published, retracted, held, draft and contradicted
rows, and keeps its statements once it has run."""

import pytest
from django.db import connection
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


PAGES = [
    "/",  # the matrix (treatments/matrix.py)
    "/treatments/one/",
    "/treatments/two/",
    "/treatments/one/?format=csv",
    "/abnormalities/low-nk/",
    "/abnormalities/high-il6/",
    "/abnormalities/low-nk/?format=json",
    # Pages of three findings: the first kept, the second built as before.
    "/abnormalities/low-nk/?page=2",
    "/abnormalities/high-il6/?page=2",
    # The API's therapies, their harms read by a kept statement (treatments/api.py).
    "/api/v1/therapies/",
    "/api/v1/therapies/one/",
    "/api/v1/therapies/?format=csv",
]


def _read(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_a_page_answers_the_same_by_kept_statements(client, data, monkeypatch):
    from findings import views

    monkeypatch.setattr(views, "FINDINGS_PAGE_SIZE", 3)
    monkeypatch.setattr(views, "KEPT_PAGES", 1)
    urls = PAGES
    kept = [_read(client, url) for url in urls]
    for key in (
        "therapy page",
        "evidence links",
        "abnormality page",
        "finding groups",
        "therapy harm rows",
        "matrix",
    ):
        assert statements.kept(key), key
    # The first page's findings only: a statement per page kept for the first pages.
    pages = [k for k in statements.kept("abnormality page") if "findings" in k]
    assert {key[key.index("findings") + 1] for key in pages} == {0}
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
    harms = [h["effect"] for h in client.get("/api/v1/therapies/one/").json()["harms"]]
    assert len(harms) == 1 and harms[0].startswith("Headache")
    page = _read(client, "/abnormalities/high-il6/").decode()
    for words in ("Withdrawn: the numbers were wrong.", "Therapies tied to it", "Lab test"):
        assert words in page, words


def test_a_kept_statement_follows_the_numbers_its_sql_holds(client, data, monkeypatch):
    """How many items a group shows, a page lists or the retracted list holds is in the
    SQL: each is part of its statement's key, so a changed number is a new statement."""
    from findings import pages as finding_pages
    from findings import views as finding_views
    from treatments import views as therapy_views

    def count(url, marker):
        return _read(client, url).decode().count(marker)

    therapy, abnormality = "/treatments/one/", "/abnormalities/high-il6/"
    items = count(therapy, 'class="evidence')
    findings = count(abnormality, 'id="finding-')
    monkeypatch.setattr(therapy_views, "EVIDENCE_PER_GROUP", 1)
    monkeypatch.setattr(finding_views, "FINDINGS_PAGE_SIZE", 2)
    monkeypatch.setattr(finding_pages, "RETRACTED_SHOWN", 0)
    assert count(therapy, 'class="evidence') < items
    assert count(abnormality, 'id="finding-') < findings
    assert "Withdrawn: the numbers were wrong." not in _read(client, abnormality).decode()


@pytest.mark.parametrize("per_group", [5, 1])
def test_a_large_therapys_page_reads_its_groups_one_by_one_and_shows_the_same(
    client, data, monkeypatch, per_group
):
    """At or above WINDOW_BELOW counted and held items, a therapy's page reads each
    group's strongest few on its own (``therapy_page_evidence_ids``) instead of ranking
    every item: the same page, held, retracted and general groups included (on SQLite,
    which takes no LIMIT in a part of a UNION, it ranks them as before)."""
    from treatments import views

    monkeypatch.setattr(views, "EVIDENCE_PER_GROUP", per_group)
    urls = ["/treatments/one/", "/treatments/two/", "/treatments/one/?format=csv"]
    ranked = [_read(client, url) for url in urls]
    monkeypatch.setattr(views, "WINDOW_BELOW", 0)
    one_by_one = [_read(client, url) for url in urls]
    assert one_by_one == ranked
    by_records = statements.kept("evidence by key")
    assert bool(by_records) == connection.features.supports_slicing_ordering_in_compound


@pytest.mark.skipif(
    not connection.features.supports_slicing_ordering_in_compound,
    reason="a LIMIT in each part of a UNION: PostgreSQL only (SQLite pages use the window)",
)
def test_each_group_on_its_own_is_the_window_ranking(data):
    """The keys both reads give, for every therapy and every choice of abnormalities."""
    from findings.models import Abnormality
    from treatments.models import Therapy
    from treatments.views import therapy_page_evidence, therapy_page_evidence_ids

    abnormalities = list(Abnormality.objects.values_list("pk", flat=True))
    for therapy in Therapy.objects.all():
        for shown in ([], abnormalities[:1], abnormalities):
            values = [therapy.pk, *shown]
            ranked = sorted(e.pk for e in therapy_page_evidence(values))
            assert sorted(pk for (pk,) in therapy_page_evidence_ids(values)) == ranked


def test_a_large_therapys_page_makes_one_query_more(client, data, monkeypatch):
    """Its evidence in two queries (the keys of each group's few, then the items with
    their sources and abnormalities) where the window reads them in one: one query more
    than the window's page (tests/test_reader_queries.py pins that one's nine), however
    many items."""
    from django.test.utils import CaptureQueriesContext

    from treatments import views

    _read(client, "/treatments/one/")  # its statements kept
    with CaptureQueriesContext(connection) as ranked:
        _read(client, "/treatments/one/")
    monkeypatch.setattr(views, "WINDOW_BELOW", 0)
    _read(client, "/treatments/one/")
    with CaptureQueriesContext(connection) as one_by_one:
        _read(client, "/treatments/one/")
    more = 1 if connection.features.supports_slicing_ordering_in_compound else 0
    assert len(one_by_one) == len(ranked) + more
