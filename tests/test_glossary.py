"""/glossary/ and the glossary's terms where reader text uses them (issue 18.4)."""

import pytest

from curation.models import Status
from findings.glossary import Gloss, gloss
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_glossary_lists_published_terms_alphabetically_with_where_they_come_from(client):
    source = factories.make_source(authors="Baraniuk JN, Other B", year=2024)
    factories.make_glossary_term(
        term="E:T ratio",
        slug="et-ratio",
        written="E:T ratios",
        source=source,
        source_note="Pooled 55 data points.",
    )
    factories.make_glossary_term(term="cytokines", slug="cytokines")
    factories.make_glossary_term(term="Draft word", status=Status.DRAFT)

    response = client.get("/glossary/")

    assert [t.term for t in response.context["terms"]] == ["cytokines", "E:T ratio"]
    html = response.content.decode()
    assert '<div class="glossary-term" id="et-ratio">' in html
    assert '<dfn>E:T ratio</dfn> <span class="aka">(also written E:T ratios)</span>' in html
    assert "Baraniuk JN 2024" in html and "Pooled 55 data points." in html
    assert "Draft word" not in html
    assert "<dfn>Level A</dfn>" in html


def test_a_term_is_explained_where_it_first_occurs_and_only_as_a_whole_word():
    terms = [
        Gloss(written="E:T ratios", slug="et", title="Effector-to-target ratio."),
        Gloss(written="E:T ratio", slug="et", title="Effector-to-target ratio."),
        Gloss(written="CI", slug="ci", title="Confidence interval."),
        Gloss(written="meta-analysis", slug="meta", title="A study of studies."),
    ]

    html = gloss("A Meta-analysis of E:T ratios; E:T ratio again. CIRCLE <b>", terms)

    assert html == (
        'A <abbr class="gloss" title="A study of studies.">Meta-analysis</abbr> of '
        '<abbr class="gloss" title="Effector-to-target ratio.">E:T ratios</abbr>; E:T ratio '
        "again. CIRCLE &lt;b&gt;"
    )


def test_a_draft_term_explains_nothing_and_a_published_one_does(client):
    nk = factories.make_abnormality(summary="Measured as E:T ratios in the lab.")
    factories.make_glossary_term(term="E:T ratios", definition="Cells per target. Long.")
    factories.make_glossary_term(term="lab", status=Status.DRAFT)

    html = client.get(nk.get_absolute_url()).content.decode()

    assert '<abbr class="gloss" title="Cells per target.">E:T ratios</abbr>' in html
    assert ">lab</abbr>" not in html


def test_a_draft_term_is_previewed_on_the_glossary_page(client):
    from curation.preview import preview_url

    curator = factories.make_curator()
    term = factories.make_glossary_term(term="Hedges g", status=Status.DRAFT)
    client.force_login(curator)

    html = client.get(preview_url(term)).content.decode()

    assert "<dfn>Hedges g</dfn>" in html
    assert 'class="glossary-term previewed"' in html
