"""Downloads of the evidence behind a therapy, pair or abnormality page (issue 18): the
same rows as the page, as CSV (UTF-8 with a byte-order mark, for Excel) and JSON,
linked from the page."""

import csv
import io
import re

import pytest
from django.utils import timezone

from curation.models import Status
from findings.models import Direction, Level
from tests import factories

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"
NON_ASCII = "Lénárt Ö, Müller-Świątek Ł"
STATEMENT = "β2-adrenergic antibodies fell ≥ 50 % — in 7 of 9 patients (Zürich)"


def page_ids(response, kind: str) -> list[int]:
    """The items a page lists, in its order."""
    html = response.content.decode()
    return [int(n) for n in re.findall(rf'<article class="[^"]*" id="{kind}-(\d+)"', html)]


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(BOM)
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def build_therapy():
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    igg = factories.make_abnormality(name="IgG1 deficiency", slug="igg1")
    therapy = factories.make_therapy(name="Immunoadsorption", slug="ia")
    source = factories.make_source(authors=NON_ASCII, title="Über Antikörper")
    trial = factories.make_evidence(
        therapy=therapy,
        abnormality=nk,
        level=Level.B,
        direction=Direction.DOES_NOT_SUPPORT,
        source=source,
        statement=STATEMENT,
    )
    web = factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.E)
    web.contradicted_by.add(trial)
    factories.make_evidence(therapy=therapy, abnormality=igg, level=Level.C)
    factories.make_evidence(therapy=therapy, abnormality=None, level=Level.D)
    factories.make_evidence(
        therapy=therapy,
        abnormality=nk,
        status=Status.RETRACTED,
        reviewed_at=timezone.now(),
        review_note="Withdrawn.",
    )
    factories.make_evidence(therapy=therapy, abnormality=nk, status=Status.DRAFT)
    factories.rate(therapy.pk)  # the contradiction was added after the items were made
    return therapy, trial, web


def test_a_therapy_page_downloads_the_same_rows_as_it_lists(client):
    _, trial, web = build_therapy()

    page = client.get("/treatments/ia/")
    rows = csv_rows(client.get("/treatments/ia/?format=csv"))
    data = client.get("/treatments/ia/?format=json").json()

    listed = page_ids(page, "evidence")
    assert len(listed) == 5  # two groups, general, retracted; not the draft
    assert [int(row["id"]) for row in rows] == listed
    assert [row["id"] for row in data["results"]] == listed
    assert 'href="?format=csv"' in page.content.decode()
    by_id = {int(row["id"]): row for row in rows}
    # Where each counts, as the counts say: the contradicted web page is contested.
    assert (by_id[trial.pk]["counted_as"], by_id[trial.pk]["contested"]) == ("against", "")
    assert (by_id[web.pk]["counted_as"], by_id[web.pk]["contested"]) == ("other", "yes")
    assert {row["counted_as"] for row in rows} >= {"retracted"}
    assert by_id[web.pk]["url"] == f"http://testserver/treatments/ia/#evidence-{web.pk}"


def test_the_top_of_a_contradicted_card_says_so(client):
    _, _, web = build_therapy()

    html = client.get("/treatments/ia/abnormalities/low-nk/").content.decode()

    card = html[html.index(f'id="evidence-{web.pk}"') :]
    # Its head line, under the plain summary (issue 12) and above the statement.
    head = card[: card.index('class="statement"')]
    assert "Contradicted by other evidence" in head and "not as for" in head
    # And the pair's letter says which way it points: the B is the trial against.
    assert "1 other (1 contested)" in " ".join(html.split())


def test_a_pair_page_downloads_the_rows_of_the_page(client, monkeypatch):
    monkeypatch.setattr("treatments.views.PAIR_PAGE_SIZE", 1)
    build_therapy()

    for number in (1, 2):
        page = client.get(f"/treatments/ia/abnormalities/low-nk/?page={number}")
        data = client.get(f"/treatments/ia/abnormalities/low-nk/?page={number}&format=json")
        listed = page_ids(page, "evidence")
        assert [row["id"] for row in data.json()["results"]] == listed
        assert f'href="?page={number}&amp;format=csv"' in page.content.decode()


def test_an_abnormality_page_downloads_its_therapies_and_findings(client):
    therapy, _, _ = build_therapy()
    nk = therapy.evidence.first().abnormality
    shown = factories.make_finding(abnormality=nk, statement="Lower killing.")
    against = factories.make_finding(abnormality=nk, direction=Direction.DOES_NOT_SUPPORT)
    factories.make_finding(abnormality=nk, status=Status.DRAFT)

    page = client.get("/abnormalities/low-nk/")
    rows = csv_rows(client.get("/abnormalities/low-nk/?format=csv"))

    assert [int(row["id"]) for row in rows if row["kind"] == "finding"] == page_ids(page, "finding")
    assert {int(row["id"]) for row in rows if row["kind"] == "finding"} == {
        shown.pk,
        against.pk,
    }
    [pair] = [row for row in rows if row["kind"] == "pair"]
    assert (pair["therapy"], pair["level"], pair["direction"]) == (
        "Immunoadsorption",
        "B",
        "against",
    )
    assert (pair["supporting"], pair["not_supporting"], pair["other"]) == ("0", "1", "1")


def test_non_ascii_text_survives_the_round_trip(client):
    _, trial, _ = build_therapy()

    raw = client.get("/treatments/ia/?format=csv").content
    [row] = [
        r for r in csv_rows(client.get("/treatments/ia/?format=csv")) if r["id"] == str(trial.pk)
    ]
    data = client.get("/treatments/ia/?format=json").json()

    assert raw.startswith(BOM) and STATEMENT.encode() in raw  # UTF-8, not a code page
    assert row["statement"] == STATEMENT
    assert row["source"] == "Lénárt Ö 2011"
    assert STATEMENT in [r["statement"] for r in data["results"]]


def test_the_sources_list_downloads_with_a_byte_order_mark(client):
    factories.make_source(authors=NON_ASCII, title="Über Antikörper")

    rows = csv_rows(client.get("/sources/?format=csv"))

    assert [(row["authors"], row["title"]) for row in rows] == [(NON_ASCII, "Über Antikörper")]


@pytest.mark.parametrize(
    "url", ["/treatments/ia/", "/treatments/ia/abnormalities/low-nk/", "/abnormalities/low-nk/"]
)
def test_an_unknown_download_format_is_a_400_naming_it(client, url):
    build_therapy()

    response = client.get(url + "?format=xlsx")

    assert response.status_code == 400
    assert "Download format" in response.content.decode()
