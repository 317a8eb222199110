"""/evidence/<id>/: an item of therapy evidence's own address (issue 14 follow-up). Pair
pages list 50 items a page, a therapy's page the strongest few of each group, a source's
page 50 claims a page: a link to an item by a bare anchor (`#evidence-<id>`) missed every
item past the first page. The address redirects to the page that lists the item, by
the rules of /findings/<id>/, and every link from elsewhere goes through it."""

import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from curation.models import Status
from curation.preview import preview_url
from findings.models import Level
from tests import factories
from treatments.views import pair_url

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def small_pages(monkeypatch):
    """Two claims a page everywhere, two items per group on a therapy's page, and the one
    most recently retracted claim of a list shown apart."""
    monkeypatch.setattr("treatments.views.PAIR_PAGE_SIZE", 2)
    monkeypatch.setattr("treatments.views.EVIDENCE_PER_GROUP", 2)
    monkeypatch.setattr("findings.views.SOURCE_PAGE_SIZE", 2)
    monkeypatch.setattr("findings.views.FINDINGS_PAGE_SIZE", 2)
    monkeypatch.setattr("findings.pages.RETRACTED_SHOWN", 1)


def retracted(days_ago: int, **kwargs):
    """An item an editor retracted ``days_ago`` days ago, on a source of its own (whose
    page lists it among its retracted claims)."""
    return factories.make_evidence(
        status=Status.RETRACTED,
        review_note="Wrong.",
        reviewed_at=timezone.now() - timedelta(days=days_ago),
        source=factories.make_source(),
        **kwargs,
    )


@pytest.fixture
def world(small_pages):
    """One therapy with a pair of five items (three pages), three items about ME/CFS in
    general (two on the therapy's page, the third only on its source's page, page 3),
    one resting on a source whose retraction awaits review, retracted items (of the
    pair: the most recent on its page, the other on its source's; in general: the two
    strongest of the therapy's retracted on its page, the third on its source's), and
    items readers must not see."""
    therapy = factories.make_therapy(name="Busy therapy", slug="busy")
    nk = factories.make_abnormality(name="Low NK", slug="low-nk")
    source = factories.make_source()
    review = factories.make_source()  # 3 findings, then 2 evidence items: 3 pages
    for _ in range(3):
        factories.make_finding(source=review)
    held_source = factories.make_source(retracted=True)
    items = {}
    with factories.rated_once():
        for level in [Level.A, Level.B, Level.C, Level.D, Level.E]:
            items[f"pair {level}"] = factories.make_evidence(
                therapy=therapy, abnormality=nk, source=source, level=level
            )
        for level in [Level.A, Level.B]:
            items[f"general {level}"] = factories.make_evidence(
                therapy=therapy, abnormality=None, source=source, level=level
            )
        factories.make_evidence(abnormality=None, source=review, level=Level.A)
        items["general past the few"] = factories.make_evidence(
            therapy=therapy, abnormality=None, source=review, level=Level.C
        )
        items["general held"] = factories.make_evidence(
            therapy=therapy, abnormality=None, source=held_source
        )
        pair = {"therapy": therapy, "abnormality": nk}
        items["pair retracted"] = retracted(1, level=Level.D, **pair)
        items["pair retracted earlier"] = retracted(2, level=Level.E, **pair)
        general = {"therapy": therapy, "abnormality": None}
        items["general retracted"] = retracted(3, level=Level.A, **general)
        items["general retracted B"] = retracted(4, level=Level.B, **general)
        items["general retracted past the few"] = retracted(5, level=Level.C, **general)
        for status in [Status.DRAFT, Status.SUBMITTED, Status.REJECTED]:
            items[status] = factories.make_evidence(therapy=therapy, abnormality=nk, status=status)
        items["therapy a draft"] = factories.make_evidence(
            therapy=factories.make_therapy(status=Status.DRAFT)
        )
    return items, review


PAIR = "/treatments/busy/abnormalities/low-nk/"
THERAPY = "/treatments/busy/"

# Where each item's address leads: its page, then its anchor (the item's own).
CASES = [
    ("pair A", PAIR),
    ("pair B", PAIR),
    ("pair C", f"{PAIR}?page=2"),
    ("pair D", f"{PAIR}?page=2"),
    ("pair E", f"{PAIR}?page=3"),
    # Listed apart, with the reason, on the first page (as a retracted finding) when it
    # is one of the most recently retracted; else on its source's page, which lists them.
    ("pair retracted", PAIR),
    ("pair retracted earlier", "OWN SOURCE"),
    ("general A", THERAPY),
    ("general B", THERAPY),
    # Not among the few the therapy's page shows: on its source's page, after the
    # source's 3 findings and its stronger item: claim 5 of 5, page 3.
    ("general past the few", "SOURCE?page=3"),
    ("general held", THERAPY),
    ("general retracted", THERAPY),
    ("general retracted B", THERAPY),
    ("general retracted past the few", "OWN SOURCE"),
]


@pytest.mark.parametrize(("name", "page"), CASES)
def test_an_items_address_leads_to_the_page_that_lists_it(client, world, name, page):
    items, review = world
    item = items[name]
    page = page.replace("OWN SOURCE", f"/sources/{item.source_id}/")
    page = page.replace("SOURCE", f"/sources/{review.pk}/")

    response = client.get(f"/evidence/{item.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"{page}#evidence-{item.pk}"
    # And that page does list it, under that anchor.
    landed = client.get(response["Location"])
    assert landed.status_code == 200
    assert f'id="evidence-{item.pk}"' in landed.content.decode()


@pytest.mark.parametrize(
    "name", [Status.DRAFT, Status.SUBMITTED, Status.REJECTED, "therapy a draft"]
)
def test_an_item_readers_do_not_see_has_no_address(client, world, name):
    items, _ = world

    assert client.get(f"/evidence/{items[name].pk}/").status_code == 404


@pytest.mark.parametrize(
    "raw", ["unknown", "abc", "-1", "0", "1.5", "%20", "1e3", "9" * 30, "9" * 400]
)
def test_an_unknown_or_malformed_address_is_a_404_never_a_500(client, world, raw):
    items, _ = world
    if raw == "unknown":
        raw = str(max(item.pk for item in items.values()) + 1000)

    assert client.get(f"/evidence/{raw}/").status_code == 404


@pytest.mark.parametrize("items", [1, 30])
def test_queries_for_an_item_on_a_pair_page(client, django_assert_num_queries, items):
    therapy, nk = factories.make_therapy(), factories.make_abnormality()
    with factories.rated_once():
        for _ in range(items):
            last = factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.E)

    # The item with its therapy, abnormality and source; the ids of its pair's list; the
    # data version (every response's X-Data-Version).
    with django_assert_num_queries(3):
        response = client.get(f"/evidence/{last.pk}/")

    assert response.status_code == 302


@pytest.mark.parametrize("items", [3, 30])
def test_queries_for_a_general_item(client, small_pages, django_assert_num_queries, items):
    therapy, source = factories.make_therapy(), factories.make_source()
    with factories.rated_once():
        for _ in range(items):
            factories.make_finding(source=source)
            factories.make_evidence(therapy=therapy, abnormality=None, source=source)
        shown = therapy.evidence.order_by("pk").first()
        past = factories.make_evidence(
            therapy=therapy, abnormality=None, source=source, level=Level.E
        )

    # On the therapy's page: the item; the ids of the few its group shows; data version.
    with django_assert_num_queries(3):
        assert client.get(f"/evidence/{shown.pk}/")["Location"].startswith("/treatments/")
    # Past them, on its source's page: the same, then the source's findings counted and
    # the ids of its evidence.
    with django_assert_num_queries(5):
        assert client.get(f"/evidence/{past.pk}/")["Location"].startswith("/sources/")


@pytest.mark.parametrize("items", [1, 30])
def test_queries_for_a_retracted_item_and_an_unknown_one(
    client, small_pages, django_assert_num_queries, items
):
    therapy, nk = factories.make_therapy(), factories.make_abnormality()
    with factories.rated_once():
        for n in range(items):
            last = retracted(n, therapy=therapy, abnormality=nk)
            general = retracted(n, therapy=therapy, abnormality=None, level=Level.E)

    # The item; whether its page lists it (the recently retracted, or the few its
    # therapy's page shows); data version. Its source's page needs none more.
    for item in (last, general):
        with django_assert_num_queries(3):
            assert client.get(f"/evidence/{item.pk}/").status_code == 302
    # The item, not found; the 404 page's data version.
    with django_assert_num_queries(2):
        assert client.get(f"/evidence/{general.pk + 1000}/").status_code == 404


# ---------------------------------------------------------------------------
# The links that lead there
# ---------------------------------------------------------------------------


def test_search_results_link_each_item_by_its_address(client, world):
    items, _ = world
    item = items["pair E"]

    html = client.get("/search/", {"q": item.statement}).content.decode()

    assert f'<a href="/evidence/{item.pk}/">Busy therapy and Low NK</a>' in html
    assert "#evidence-" not in html


def test_the_feed_links_each_item_by_its_address_and_keeps_its_entry_id(client, world):
    items, _ = world

    response = client.get("/feeds/evidence/")

    entries = ElementTree.fromstring(response.content).findall(f"{ATOM}entry")
    by_link = {e.find(f"{ATOM}link").get("href"): e.find(f"{ATOM}id").text for e in entries}
    item = items["pair E"]
    # The id the entry had when the feed linked the pair's page: feed readers keep it.
    assert by_link[f"http://testserver/evidence/{item.pk}/"] == (
        f"http://testserver{pair_url('busy', 'low-nk')}#evidence-{item.pk}"
    )
    general = items["general past the few"]
    assert by_link[f"http://testserver/evidence/{general.pk}/"] == (
        f"http://testserver/treatments/busy/#evidence-{general.pk}"
    )


def test_view_on_site_of_an_item_on_page_3_leads_to_page_3(editor_client, world):
    items, _ = world
    item = items["pair E"]

    page = editor_client.get(f"/admin/treatments/therapyevidence/{item.pk}/change/")
    view_on_site = re.search(r'<a href="([^"]*)" class="viewsitelink">', page.content.decode())

    assert view_on_site.group(1) == preview_url(item)
    followed = editor_client.get(view_on_site.group(1))
    assert followed["Location"] == f"{PAIR}?page=3#evidence-{item.pk}"


def test_a_later_pages_download_links_each_row_to_that_page(client, world):
    items, _ = world

    rows = client.get(PAIR, {"page": 2, "format": "json"}).json()["results"]
    first = client.get(PAIR, {"format": "json"}).json()["results"]

    item = items["pair C"]
    by_id = {row["id"]: row["url"] for row in rows}
    assert by_id[item.pk] == f"http://testserver{PAIR}?page=2#evidence-{item.pk}"
    assert first[0]["url"] == f"http://testserver{PAIR}#evidence-{items['pair A'].pk}"


# ---------------------------------------------------------------------------
# Findings: one about a lab test only is on its source's page, which has pages too
# ---------------------------------------------------------------------------


def test_a_finding_about_a_lab_test_only_leads_to_the_page_of_its_source_that_lists_it(
    client, small_pages
):
    source = factories.make_source()
    test = factories.make_lab_test()
    findings = [
        factories.make_finding(abnormality=None, lab_test=test, source=source, level=level)
        for level in [Level.A, Level.B, Level.C]
    ]

    assert client.get(f"/findings/{findings[0].pk}/")["Location"] == (
        f"/sources/{source.pk}/#finding-{findings[0].pk}"
    )
    location = client.get(f"/findings/{findings[2].pk}/")["Location"]
    assert location == f"/sources/{source.pk}/?page=2#finding-{findings[2].pk}"
    assert f'id="finding-{findings[2].pk}"' in client.get(location).content.decode()
    # Search links it too (it used to print the test's name only).
    html = client.get("/search/", {"q": findings[2].statement}).content.decode()
    assert f'<a href="/findings/{findings[2].pk}/">{test.name}</a>' in html


def test_a_retracted_finding_leads_to_its_abnormalitys_page_or_else_its_sources(
    client, small_pages
):
    abnormality = factories.make_abnormality(slug="busy")
    findings = [
        factories.make_finding(
            abnormality=abnormality,
            status=Status.RETRACTED,
            review_note="Wrong.",
            reviewed_at=timezone.now() - timedelta(days=days_ago),
        )
        for days_ago in (1, 2)
    ]

    recent, earlier = (client.get(f"/findings/{f.pk}/")["Location"] for f in findings)

    # The one most recently retracted is listed on its abnormality's page; the other
    # only on its source's.
    assert recent == f"/abnormalities/busy/#finding-{findings[0].pk}"
    assert earlier == f"/sources/{findings[1].source_id}/#finding-{findings[1].pk}"
    for location, finding in zip((recent, earlier), findings, strict=True):
        assert f'id="finding-{finding.pk}"' in client.get(location).content.decode()
