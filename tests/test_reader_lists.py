"""/, /abnormalities/ and /sources/: the overview matrix and the two other lists."""

import csv
import io

import pytest

from curation.models import Status
from findings.models import Direction, Level, SourceKind
from tests import factories

pytestmark = pytest.mark.django_db


# --- overview and matrix -------------------------------------------------------


def test_the_matrix_shows_the_best_level_and_the_counts_for_each_pair(client):
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    ldn = factories.make_therapy(name="Low-dose naltrexone", slug="ldn")
    factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.C)
    factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.B)
    factories.make_evidence(
        therapy=ldn, abnormality=nk, level=Level.A, direction=Direction.DOES_NOT_SUPPORT
    )
    factories.make_evidence(therapy=ldn, abnormality=nk, level=Level.E, direction=Direction.MIXED)

    response = client.get("/")
    html = response.content.decode()

    [(_abnormality, [cell])] = response.context["matrix_rows"]
    assert (cell.best_level, cell.supporting, cell.not_supporting, cell.total) == ("A", 2, 1, 4)
    assert '<td class="cell level-A certainty-' in html
    assert '<a href="/treatments/ldn/abnormalities/low-nk/">' in html
    assert ">2 for · 1 against · 1 other<" in html
    # The letter never goes without the way it points: the A is the item against.
    assert '<span class="cell-letter">A</span> <span class="cell-letter-direction">against' in html
    # Colour is never the only signal: the letter and its name are in the text.
    assert "Low NK cell cytotoxicity and Low-dose naltrexone: level" in html
    assert "(Replicated: the strongest items do not support it);" in html


def test_the_matrix_leaves_out_drafts_and_marks_empty_cells_in_words(client):
    nk = factories.make_abnormality(name="Shown abnormality")
    shown = factories.make_therapy(name="Shown therapy")
    factories.make_evidence(therapy=shown, abnormality=nk, status=Status.DRAFT)
    factories.make_therapy(name="Draft therapy", status=Status.DRAFT)
    factories.make_abnormality(name="Draft abnormality", status=Status.DRAFT)

    response = client.get("/")
    html = response.content.decode()

    assert response.context["matrix_rows"] == [(nk, [None])]
    assert "Draft therapy" not in html and "Draft abnormality" not in html
    assert "no published evidence" in html


def test_the_overview_explains_the_levels_and_offers_a_start_by_abnormality(client):
    factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")

    html = client.get("/").content.decode()

    assert 'id="levels"' in html
    for name in ["Replicated", "Controlled", "Uncontrolled clinical", "Opinion"]:
        assert f'<span class="level-name">{name}</span>' in html
    assert '<form method="get" action="/treatments/"' in html
    assert '<option value="low-nk">Low NK cell cytotoxicity</option>' in html


# --- abnormalities ---------------------------------------------------------------


def test_the_abnormality_list_filters_and_counts_published_findings(client):
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", category="cellular")
    factories.make_finding(abnormality=nk)
    factories.make_finding(abnormality=nk, direction=Direction.DOES_NOT_SUPPORT)
    factories.make_finding(abnormality=nk, status=Status.DRAFT)
    factories.make_abnormality(name="IgG1 subclass deficiency", category="humoral")
    factories.make_abnormality(name="Draft abnormality", status=Status.DRAFT)

    everything = client.get("/abnormalities/")
    cellular = client.get("/abnormalities/?category=cellular")

    assert [a.name for a in everything.context["object_list"]] == [
        "IgG1 subclass deficiency",
        "Low NK cell cytotoxicity",
    ]
    assert [a.name for a in cellular.context["object_list"]] == ["Low NK cell cytotoxicity"]
    assert "1 for · 1 against" in cellular.content.decode()
    assert [a.name for a in client.get("/abnormalities/?q=igg1").context["object_list"]] == [
        "IgG1 subclass deficiency"
    ]


def test_the_abnormality_list_downloads_with_the_same_filters(client):
    factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk", category="cellular")
    factories.make_abnormality(name="IgG1 subclass deficiency", category="humoral")

    data = client.get("/abnormalities/?category=cellular&format=json").json()
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/abnormalities/?category=cellular&format=csv").content.decode(
                    "utf-8-sig"
                )
            )
        )
    )

    assert data["count"] == 1 and data["results"][0]["slug"] == "low-nk"
    assert [row["slug"] for row in rows] == ["low-nk"]


# --- sources -------------------------------------------------------------------------


def test_the_source_list_filters_by_kind_year_retraction_and_text(client):
    factories.make_source(title="An old trial", year=1990, kind=SourceKind.JOURNAL_ARTICLE)
    factories.make_source(title="A new review", year=2020, kind=SourceKind.REVIEW, pmid="87654321")
    factories.make_source(title="A retracted paper", year=2005, retracted=True)
    factories.make_source(title="A draft source", status=Status.DRAFT)

    def titles(query):
        return [s.title for s in client.get(f"/sources/{query}").context["object_list"]]

    assert titles("") == ["A new review", "A retracted paper", "An old trial"]
    assert titles("?kind=review") == ["A new review"]
    assert titles("?year_min=2000&year_max=2010") == ["A retracted paper"]
    assert titles("?retracted=true") == ["A retracted paper"]
    assert titles("?retracted=false") == ["A new review", "An old trial"]
    assert titles("?q=trial") == ["An old trial"]
    # A PMID no factory counter reaches: "123" also matched "Author1234 A" in a long run.
    assert titles("?q=87654321") == ["A new review"]


def test_the_source_list_downloads_with_the_same_filters(client):
    factories.make_source(title="A new review", kind=SourceKind.REVIEW, doi="10.1000/xyz")
    factories.make_source(title="Something else")

    response = client.get("/sources/?kind=review&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert response["Content-Disposition"] == 'attachment; filename="sources-v0.csv"'
    assert [(row["title"], row["doi"]) for row in rows] == [("A new review", "10.1000/xyz")]


def test_the_matrix_puts_the_most_connected_rows_and_columns_first(client):
    alone = factories.make_abnormality(name="A lonely abnormality")
    busy = factories.make_abnormality(name="Z busy abnormality")
    unused = factories.make_therapy(name="A therapy without evidence")
    used = factories.make_therapy(name="Z therapy with evidence")
    factories.make_evidence(therapy=used, abnormality=busy)

    response = client.get("/")

    assert [abnormality for abnormality, _cells in response.context["matrix_rows"]] == [busy, alone]
    assert response.context["therapies"] == [used, unused]
    # The "start from an abnormality" choices stay in alphabetical order.
    assert response.context["abnormalities"] == [alone, busy]
