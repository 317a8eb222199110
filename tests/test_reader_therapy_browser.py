"""/treatments/: the therapy browser driven by TherapyFilter, and its downloads."""

import csv
import io

import pytest

from curation.models import Status
from findings.models import Direction, Level
from tests import factories
from treatments.models import Stage, TherapyKind

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [therapy.name for therapy, _ties, _access in response.context["rows"]]


@pytest.fixture
def nk():
    return factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")


@pytest.fixture
def rnase():
    return factories.make_abnormality(name="RNase L pathway dysfunction", slug="rnase-l")


def test_it_lists_published_therapies_strongest_evidence_first(client):
    weak = factories.make_therapy(name="Weak")
    strong = factories.make_therapy(name="Strong")
    factories.make_therapy(name="Without evidence")
    factories.make_evidence(therapy=weak, level=Level.E)
    factories.make_evidence(therapy=strong, level=Level.A)
    factories.make_therapy(name="Draft therapy", status=Status.DRAFT)

    response = client.get("/treatments/")

    assert response.status_code == 200
    assert names(response) == ["Strong", "Weak", "Without evidence"]
    assert b"Draft therapy" not in response.content


def test_it_filters_by_one_abnormality(client, nk, rnase):
    ldn = factories.make_therapy(name="Low-dose naltrexone")
    inosine = factories.make_therapy(name="Inosine pranobex")
    rintatolimod = factories.make_therapy(name="Rintatolimod")
    factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.D)
    factories.make_evidence(therapy=inosine, abnormality=nk, level=Level.C)
    factories.make_evidence(therapy=rintatolimod, abnormality=rnase, level=Level.B)

    response = client.get("/treatments/?abnormality=low-nk")

    assert names(response) == ["Inosine pranobex", "Low-dose naltrexone"]


def test_it_ignores_draft_evidence_when_filtering(client, nk):
    therapy = factories.make_therapy(name="Only a draft ties it")
    factories.make_evidence(therapy=therapy, abnormality=nk, status=Status.DRAFT)

    response = client.get("/treatments/?abnormality=low-nk")

    assert names(response) == []
    assert "0 therapies found." in response.content.decode()


def test_it_matches_any_or_all_of_several_abnormalities(client, nk, rnase):
    both = factories.make_therapy(name="Both")
    only_nk = factories.make_therapy(name="Only NK")
    factories.make_evidence(therapy=both, abnormality=nk)
    factories.make_evidence(therapy=both, abnormality=rnase)
    factories.make_evidence(therapy=only_nk, abnormality=nk)

    any_of = client.get("/treatments/?abnormality=low-nk&abnormality=rnase-l&sort=name")
    all_of = client.get("/treatments/?abnormality=low-nk&abnormality=rnase-l&match=all")

    assert names(any_of) == ["Both", "Only NK"]
    assert names(all_of) == ["Both"]


def test_the_minimum_level_applies_to_the_evidence_for_the_chosen_abnormality(client, nk):
    therapy = factories.make_therapy(name="Strong elsewhere")
    factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.E)
    factories.make_evidence(therapy=therapy, level=Level.A)
    good = factories.make_therapy(name="Strong here")
    factories.make_evidence(therapy=good, abnormality=nk, level=Level.B)

    response = client.get("/treatments/?abnormality=low-nk&level=B")

    assert names(response) == ["Strong here"]


def test_it_filters_by_direction_kind_stage_and_name(client):
    drug = factories.make_therapy(name="Naltrexone", kind=TherapyKind.DRUG, aliases="LDN")
    cells = factories.make_therapy(
        name="Lymph node cells", kind=TherapyKind.CELL_THERAPY, stage=Stage.PRECLINICAL
    )
    factories.make_evidence(therapy=drug, direction=Direction.SUPPORTS)
    factories.make_evidence(therapy=cells, direction=Direction.DOES_NOT_SUPPORT)

    assert names(client.get("/treatments/?direction=does_not_support")) == ["Lymph node cells"]
    assert names(client.get("/treatments/?kind=drug")) == ["Naltrexone"]
    assert names(client.get("/treatments/?stage=preclinical")) == ["Lymph node cells"]
    assert names(client.get("/treatments/?q=ldn")) == ["Naltrexone"]


def test_it_sorts_by_name_or_by_evidence(client):
    for name, level in [("Beta", Level.A), ("Alpha", Level.C), ("Gamma", Level.B)]:
        factories.make_evidence(therapy=factories.make_therapy(name=name), level=level)

    assert names(client.get("/treatments/?sort=name")) == ["Alpha", "Beta", "Gamma"]
    assert names(client.get("/treatments/?sort=-name")) == ["Gamma", "Beta", "Alpha"]
    # "-evidence" is the strongest first, as its label says (issue 16).
    assert names(client.get("/treatments/?sort=-evidence")) == ["Beta", "Gamma", "Alpha"]
    assert names(client.get("/treatments/?sort=evidence")) == ["Alpha", "Gamma", "Beta"]


def test_it_paginates_and_keeps_the_filters_in_the_page_links(client):
    for n in range(23):
        factories.make_therapy(name=f"Therapy {n:02d}", kind=TherapyKind.DRUG)

    first = client.get("/treatments/?kind=drug&sort=name")
    second = client.get("/treatments/?kind=drug&sort=name&page=2")

    assert len(names(first)) == 20
    assert names(second) == ["Therapy 20", "Therapy 21", "Therapy 22"]
    assert 'href="?kind=drug&amp;sort=name&amp;page=2"' in first.content.decode()


def test_each_row_shows_tied_abnormalities_level_counts_and_access(client, nk):
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.B)
    factories.make_evidence(
        therapy=therapy, abnormality=nk, level=Level.D, direction=Direction.DOES_NOT_SUPPORT
    )
    factories.make_regulatory_status(therapy=therapy, jurisdiction="Argentina")

    html = client.get("/treatments/").content.decode()

    assert (
        '<a href="/treatments/rintatolimod/abnormalities/low-nk/">Low NK cell cytotoxicity' in html
    )
    assert "1 for · 1 against" in html
    assert "Approved for ME/CFS in Argentina" in html
    assert '<span class="level-name">Controlled</span>' in html


def test_the_filter_form_is_labelled_and_keeps_its_values(client, nk):
    html = client.get("/treatments/?abnormality=low-nk&level=C").content.decode()

    assert "<legend>Abnormality</legend>" in html
    assert 'value="low-nk"' in html and "checked" in html
    assert '<option value="C" selected>C or better</option>' in html
    assert 'hx-get="/treatments/"' in html


def test_an_htmx_request_gets_the_same_page_with_the_results(client, nk):
    factories.make_evidence(therapy=factories.make_therapy(name="LDN"), abnormality=nk)

    response = client.get("/treatments/?abnormality=low-nk", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert 'id="results"' in response.content.decode()
    assert names(response) == ["LDN"]


def test_it_downloads_the_filtered_list_as_csv(client, nk):
    therapy = factories.make_therapy(name="=Formula", slug="formula", aliases="F1")
    factories.make_evidence(therapy=therapy, abnormality=nk, level=Level.C)
    factories.make_evidence(therapy=factories.make_therapy(name="Unrelated"))
    draft = factories.make_therapy(name="Draft", status=Status.DRAFT)
    factories.make_evidence(therapy=draft, abnormality=nk)

    response = client.get("/treatments/?abnormality=low-nk&format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="therapies-v0.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    # A cell starting with "=" would run as a formula in a spreadsheet.
    assert rows[0]["name"] == "'=Formula"
    assert rows[0]["best_level"] == "C"
    assert rows[0]["abnormalities"] == "low-nk (C for: 1 for · 0 against · 0 other)"
    assert rows[0]["url"] == "http://testserver/treatments/formula/"


def test_it_downloads_the_filtered_list_as_json_without_pagination(client):
    for n in range(23):
        factories.make_therapy(name=f"Drug {n:02d}", kind=TherapyKind.DRUG)
    factories.make_therapy(name="A supplement", kind=TherapyKind.SUPPLEMENT)

    response = client.get("/treatments/?kind=drug&format=json&page=2")

    data = response.json()
    assert data["count"] == 23
    assert {row["kind"] for row in data["results"]} == {"Drug"}
    assert set(data["results"][0]) == {
        "name",
        "slug",
        "url",
        "aliases",
        "kind",
        "stage",
        "best_level",
        "best_level_direction",
        "certainty",
        "net_direction",
        "supporting",
        "not_supporting",
        "other",
        "contested",
        "abnormalities",
        "access",
        "access_history",
        "harms",
    }


def test_the_download_links_carry_the_current_filters(client, nk):
    html = client.get("/treatments/?abnormality=low-nk&page=1").content.decode()

    assert 'href="?abnormality=low-nk&amp;format=csv"' in html
    assert 'href="?abnormality=low-nk&amp;format=json"' in html
