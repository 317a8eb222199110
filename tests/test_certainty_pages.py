"""Certainty on reader pages (issue 12): the pair page's summary box, the matrix's marks
and the evidence-gap map."""

from __future__ import annotations

import csv
import io

import pytest

from curation.models import Status
from tests.factories import make_abnormality, make_evidence, make_therapy
from treatments.certainty import certainty_recompute
from treatments.models import CertaintyOverride, PairCertainty

pytestmark = pytest.mark.django_db

TRIAL = {
    "design": "rct",
    "risk_of_bias": "low",
    "risk_of_bias_reason": "Randomised, blinded, no losses.",
    "selected_for_abnormality": "yes",
    "outcome_type": "clinical",
}


def small_trial(patients=30, **fields):
    therapy = fields.pop("therapy", None) or make_therapy(name="IVIG", slug="ivig")
    abnormality = fields.pop("abnormality", None) or make_abnormality(
        name="Low IgG subclasses", slug="low-igg"
    )
    return make_evidence(
        therapy=therapy, abnormality=abnormality, patients=patients, **{**TRIAL, **fields}
    )


def pair_page(client, evidence):
    return client.get(
        f"/treatments/{evidence.therapy.slug}/abnormalities/{evidence.abnormality.slug}/"
    )


def test_the_pair_page_opens_with_how_sure_we_are_in_one_plain_sentence(client):
    evidence = small_trial(direction="does_not_support")
    certainty_recompute()

    html = pair_page(client, evidence).content.decode()

    box = html[html.index('class="certainty-box') : html.index("</section>")]
    assert (
        "Low certainty that IVIG does not help people with low IgG subclasses: one randomised "
        "trial with 30 participants in all found no benefit." in box
    )
    assert "Net direction" in box and "No benefit" in box
    assert "Down two steps for imprecision: the only trial had 30 participants" in box
    assert "What would change it" in box
    # The box comes before the evidence list.
    assert html.index("certainty-box") < html.index('id="pair-evidence-heading"')


def test_the_sentence_is_built_from_the_stored_rating_for_every_direction(client):
    evidence = small_trial(patients=600)
    other = small_trial(
        patients=500,
        therapy=evidence.therapy,
        abnormality=evidence.abnormality,
        direction="does_not_support",
    )
    certainty_recompute()
    rating = PairCertainty.objects.get(therapy=evidence.therapy, abnormality=other.abnormality)
    assert rating.net_direction == "uncertain"

    html = pair_page(client, evidence).content.decode()

    whether = "certainty about whether IVIG helps people with low IgG subclasses: two randomised"
    assert whether in html
    assert "point different ways" in html


def test_an_override_is_shown_beside_the_computed_rating_with_its_reason(client, editor):
    evidence = small_trial()
    override = CertaintyOverride.objects.create(
        therapy=evidence.therapy,
        abnormality=evidence.abnormality,
        certainty="very_low",
        net_direction="uncertain",
        reason="The trial's outcome was changed after unblinding.",
        status=Status.PUBLISHED,
        created_by=editor,
    )
    certainty_recompute()
    assert PairCertainty.objects.get(abnormality=evidence.abnormality).override == override

    html = pair_page(client, evidence).content.decode()

    assert "Very low certainty about whether IVIG helps" in html
    assert "computed from the evidence: Low, benefit" in html
    assert "The trial&#x27;s outcome was changed after unblinding." in html


def test_a_pair_without_a_stored_rating_shows_no_box(client):
    evidence = small_trial()
    PairCertainty.objects.all().delete()  # the factories rate what they make
    html = pair_page(client, evidence).content.decode()
    assert "certainty-box" not in html


def test_each_matrix_cell_marks_its_certainty_and_direction_in_words_and_colour(client):
    evidence = small_trial()
    certainty_recompute()

    html = client.get("/").content.decode()

    cell = html[html.index(f'href="/treatments/ivig/abnormalities/{evidence.abnormality.slug}/"') :]
    cell = cell[: cell.index("</td>")]
    assert "●●○○ +" in cell
    assert "Low certainty, benefit" in cell
    assert "certainty-low" in html[: html.index(cell)][-200:]
    # The legend names every mark.
    assert "●○○○</span> Very low" in html
    assert '<span aria-hidden="true">±</span> Uncertain' in html


# ---------------------------------------------------------------------------
# /gaps/: the evidence-gap map
# ---------------------------------------------------------------------------


def build_gaps():
    """Three pairs of one abnormality: one with only a rationale (absolute gap), one with
    two cohort studies and no trial (synthesis gap), one with a trial (no gap)."""
    nk = make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    rationale = make_therapy(name="Rationale only", slug="rationale-only")
    cohorts = make_therapy(name="Two cohorts", slug="two-cohorts")
    trial = make_therapy(name="One trial", slug="one-trial")
    make_evidence(
        therapy=rationale, abnormality=nk, design="expert_opinion", level="E", link_kind="rationale"
    )
    for _ in range(2):
        make_evidence(therapy=cohorts, abnormality=nk, design="cohort", level="C", patients=40)
    small_trial(therapy=trial, abnormality=nk)
    certainty_recompute()
    return nk


def gap_rows(response):

    return {
        row["therapy_slug"]: row
        for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    }


def test_the_gap_map_tells_an_absolute_gap_from_a_synthesis_gap(client):
    build_gaps()

    response = client.get("/gaps/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "3 pairings: 1 absolute gap, 1 synthesis gap" in html
    lists = html[html.index('class="gap-lists"') :]
    assert "Rationale only</a>: 0 studies (0 clinical), 0 controlled trials" in lists
    assert "Two cohorts</a>: 2 studies (2 clinical), 0 controlled trials" in lists
    assert "One trial</a>: 1 study (1 clinical), 1 controlled trial;" in lists
    item = lists[lists.index("Rationale only") :]
    assert "<strong>Absolute gap</strong>" in item[: item.index("</li>")]
    item = lists[lists.index("Two cohorts") :]
    assert "<strong>Synthesis gap</strong>" in item[: item.index("</li>")]
    item = lists[lists.index("One trial") :]
    assert "gap</strong>" not in item[: item.index("</li>")]


def test_laboratory_studies_alone_make_no_synthesis_gap(client):
    nk = make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")
    cells = make_therapy(name="Cell studies", slug="cell-studies")
    mixed = make_therapy(name="One cohort and a cell study", slug="mixed")
    for _ in range(3):
        make_evidence(therapy=cells, abnormality=nk, design="in_vitro", level="D")
    make_evidence(therapy=mixed, abnormality=nk, design="cohort", level="C", patients=20)
    make_evidence(therapy=mixed, abnormality=nk, design="animal", level="D")
    certainty_recompute()

    rows = gap_rows(client.get("/gaps/?format=csv"))

    # Three studies, none of them in people: not a trial waiting to be planned.
    assert (rows["cell-studies"]["studies"], rows["cell-studies"]["clinical_studies"]) == (
        "3",
        "0",
    )
    assert rows["cell-studies"]["gap"] == ""
    # Two studies, only one clinical: no synthesis gap either.
    assert (rows["mixed"]["studies"], rows["mixed"]["clinical_studies"]) == ("2", "1")
    assert rows["mixed"]["gap"] == ""
    html = client.get("/gaps/?gap=synthesis").content.decode()
    assert "0 synthesis gaps" in html


def test_the_gap_map_reads_the_numbers_stored_on_publish(client, django_assert_num_queries):
    build_gaps()
    rating = PairCertainty.objects.pairs().get(therapy__slug="two-cohorts")
    # The same numbers the pair's page and the API show.
    assert (rating.counts.studies, rating.counts.clinical_studies) == (2, 2)
    PairCertainty.objects.filter(pk=rating.pk).update(evidence_controlled_studies=1)

    rows = gap_rows(client.get("/gaps/?format=csv"))

    # Read, not counted again per request.
    assert rows["two-cohorts"]["controlled_trials"] == "1"
    assert rows["two-cohorts"]["gap"] == ""


def test_the_gap_map_filters_by_gap_and_certainty(client):
    build_gaps()

    html = client.get("/gaps/?gap=synthesis").content.decode()
    assert "1 pairing: 0 absolute gaps, 1 synthesis gap" in html
    assert "Two cohorts" in html and "Rationale only</a>" not in html

    html = client.get("/gaps/?certainty=low&abnormality=low-nk").content.decode()
    assert "One trial</a>" in html and "Rationale only</a>" not in html


def test_the_gap_map_downloads_as_csv_named_with_the_data_version(client):
    build_gaps()

    response = client.get("/gaps/?format=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert "evidence-gaps-v" in response["Content-Disposition"]
    rows = gap_rows(response)
    assert rows["rationale-only"]["gap"] == "absolute"
    assert (rows["two-cohorts"]["gap"], rows["two-cohorts"]["studies"]) == ("synthesis", "2")
    assert rows["one-trial"]["gap"] == ""
    assert rows["one-trial"]["controlled_trials"] == "1"
    assert (rows["one-trial"]["certainty"], rows["one-trial"]["net_direction"]) == (
        "low",
        "benefit",
    )
    assert rows["one-trial"]["url"].endswith("/treatments/one-trial/abnormalities/low-nk/")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("gap=everywhere", "gap"),
        ("certainty=sure", "certainty"),
        ("direction=sideways", "direction"),
        ("abnormality=no-such-thing", "abnormality"),
        ("format=xlsx", "format"),
    ],
)
def test_a_bad_gap_map_parameter_is_a_400_naming_it(client, query, parameter):
    build_gaps()

    response = client.get(f"/gaps/?{query}")

    assert response.status_code == 400
    assert parameter in response.content.decode().lower()


def build_many_gaps(rows: int):
    nk = make_abnormality(slug="target")
    for _ in range(rows):
        therapy = make_therapy()
        make_evidence(therapy=therapy, abnormality=nk, design="cohort", level="C", patients=40)
        make_evidence(therapy=therapy, abnormality=make_abnormality(), design="in_vitro")
    certainty_recompute()


@pytest.mark.parametrize("rows", [1, 50])
@pytest.mark.parametrize(
    ("url", "queries"),
    [("/gaps/", 2), ("/gaps/?abnormality=target&gap=absolute", 3), ("/gaps/?format=csv", 2)],
)
def test_the_gap_map_runs_the_same_queries_with_1_and_50_rows(
    client, django_assert_num_queries, rows, url, queries
):
    # The ratings with their studies and controlled trials (one query); the data
    # version; with an abnormality, its slug checked.
    build_many_gaps(rows)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200


def test_the_home_page_and_the_navigation_link_to_the_gap_map(client, db):
    html = client.get("/").content.decode()
    assert html.count('href="/gaps/"') >= 2


# ---------------------------------------------------------------------------
# The therapy browser: sort and filter by certainty
# ---------------------------------------------------------------------------


def build_rated_therapies():
    """High (two large trials agreeing), low (one trial of 30), very low (in vitro
    only), and a therapy with no evidence, so no rating."""
    nk = make_abnormality(slug="low-nk")
    high = make_therapy(name="Alpha high")
    for _ in range(2):
        small_trial(patients=250, therapy=high, abnormality=nk)
    small_trial(patients=30, therapy=make_therapy(name="Beta low"), abnormality=nk)
    make_evidence(
        therapy=make_therapy(name="Gamma very low"),
        abnormality=nk,
        design="in_vitro",
        level="D",
        outcome_type="surrogate",
    )
    make_therapy(name="Delta unrated")
    certainty_recompute()
    ratings = dict(PairCertainty.objects.therapy_wide().values_list("therapy__name", "certainty"))
    assert ratings == {"Alpha high": "high", "Beta low": "low", "Gamma very low": "very_low"}


def therapy_names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def test_the_therapy_browser_sorts_by_certainty_unrated_last(client):
    build_rated_therapies()

    # "-" is most first, as for evidence (issue 16).
    most_first = therapy_names(client.get("/treatments/?sort=-certainty&format=json"))
    least_first = therapy_names(client.get("/treatments/?sort=certainty&format=json"))

    assert most_first == ["Alpha high", "Beta low", "Gamma very low", "Delta unrated"]
    assert least_first == ["Gamma very low", "Beta low", "Alpha high", "Delta unrated"]


def test_the_therapy_browser_filters_by_certainty_an_override_first(client, editor):
    build_rated_therapies()
    beta = PairCertainty.objects.get(therapy__name="Beta low", abnormality=None).therapy
    CertaintyOverride.objects.create(
        therapy=beta,
        certainty="very_low",
        reason="The outcome was changed after unblinding.",
        status=Status.PUBLISHED,
        created_by=editor,
    )
    certainty_recompute()

    chosen = therapy_names(
        client.get("/treatments/?certainty=very_low&certainty=high&format=json&sort=name")
    )

    assert chosen == ["Alpha high", "Beta low", "Gamma very low"]
    assert therapy_names(client.get("/treatments/?certainty=low&format=json")) == []


def test_a_bad_certainty_in_the_therapy_browser_is_a_400_naming_it(client, db):
    response = client.get("/treatments/?certainty=sure")
    assert response.status_code == 400
    assert "certainty" in response.content.decode().lower()


def test_each_therapy_card_says_how_sure_we_are_of_it_as_a_whole(client):
    build_rated_therapies()

    html = client.get("/treatments/?sort=-certainty").content.decode()

    assert '<span aria-hidden="true">●●●●</span> High certainty, benefit' in html
    assert '<span aria-hidden="true">●○○○</span> Very low certainty' in html
    assert 'name="certainty" value="very_low"' in html


@pytest.mark.parametrize(
    ("name", "reads"),
    [
        ("Low IgG subclasses", "people with low IgG subclasses"),
        ("IgG1 subclass deficiency", "people with IgG1 subclass deficiency"),
        ("NK cell dysfunction", "people with NK cell dysfunction"),
        ("CD8+ T-cell exhaustion", "people with CD8+ T-cell exhaustion"),
        ("Chronic immune activation", "people with chronic immune activation"),
    ],
)
def test_the_sentence_keeps_the_capitals_of_an_abbreviation(name, reads):
    from treatments.certainty_words import _people_with

    assert _people_with(name) == reads
