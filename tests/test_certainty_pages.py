"""Certainty on reader pages (issue 12): the pair page's summary box, the matrix's marks
and the evidence-gap map."""

from __future__ import annotations

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
