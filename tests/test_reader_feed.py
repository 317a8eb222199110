"""/feeds/evidence/: an Atom feed of newly published therapy evidence."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from curation.models import Status
from tests import factories

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def entries(client):
    response = client.get("/feeds/evidence/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ElementTree.fromstring(response.content).findall(f"{ATOM}entry")


def test_it_lists_published_evidence_newest_first(client):
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    rnase = factories.make_abnormality(name="RNase L pathway dysfunction", slug="rnase-l")
    older = factories.make_evidence(therapy=therapy, abnormality=rnase, statement="Older.")
    older.reviewed_at = timezone.now() - timedelta(days=3)
    older.save()
    newer = factories.make_evidence(therapy=therapy, abnormality=None, statement="Newer.")
    newer.reviewed_at = timezone.now()
    newer.save()
    factories.make_evidence(statement="Draft.", status=Status.DRAFT)

    found = entries(client)

    assert [e.find(f"{ATOM}title").text for e in found] == [
        "Rintatolimod — ME/CFS in general: level B",
        "Rintatolimod — RNase L pathway dysfunction: level B",
    ]
    # Each item's own address, which leads to the page that lists it (a pair's page has
    # pages); the entry's id is the link it had before, its page and anchor.
    links = [e.find(f"{ATOM}link").get("href") for e in found]
    assert links == [
        f"http://testserver/evidence/{newer.pk}/",
        f"http://testserver/evidence/{older.pk}/",
    ]
    assert [e.find(f"{ATOM}id").text for e in found] == [
        f"http://testserver/treatments/rintatolimod/#evidence-{newer.pk}",
        f"http://testserver/treatments/rintatolimod/abnormalities/rnase-l/#evidence-{older.pk}",
    ]


def test_it_escapes_what_curators_typed(client):
    factories.make_evidence(statement="<script>alert(1)</script>")

    [entry] = entries(client)

    summary = entry.find(f"{ATOM}summary").text
    assert "&lt;script&gt;" in summary
    assert "<script>" not in summary
    assert "Not medical advice." in summary


def test_every_page_links_to_the_feed(client):
    html = client.get("/").content.decode()

    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/feeds/evidence/"' in html
