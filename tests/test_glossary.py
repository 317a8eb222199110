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


def _gloss_by_patterns_alone(text: str, entries) -> str:
    """The marking as it was before the substring test (issue 14): every term's pattern
    run over every text. The reference the faster version must equal."""
    import re

    from django.utils.html import conditional_escape, escape

    html = str(conditional_escape(text or ""))
    done, taken, marks = set(), [], []
    for entry in entries:
        if entry.slug in done:
            continue
        written = str(escape(entry.written))
        flags = re.IGNORECASE if written.islower() else 0
        pattern = re.compile(rf"(?<![\w+-]){re.escape(written)}(?![\w+])", flags)
        for match in pattern.finditer(html):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            marks.append((start, end, entry))
            taken.append((start, end))
            done.add(entry.slug)
            break
    for start, end, entry in sorted(marks, key=lambda m: m[0], reverse=True):
        html = (
            f'{html[:start]}<abbr class="gloss" title="{escape(entry.title)}">'
            f"{html[start:end]}</abbr>{html[end:]}"
        )
    return html


GLOSS_ENTRIES = sorted(
    [
        Gloss(written="E:T ratios", slug="et", title="Effector to target."),
        Gloss(written="E:T ratio", slug="et", title="Effector to target."),
        Gloss(written="meta-analysis", slug="meta", title="Pooled <studies>."),
        Gloss(written="CI", slug="ci", title="Confidence interval."),
        Gloss(written="CD56bright", slug="cd56", title="A subset."),
        Gloss(written="NKH1+T3-", slug="nkh", title="A phenotype."),
        Gloss(written="skin", slug="skin", title="A long-s test."),
        Gloss(written="killer", slug="killer", title="A Kelvin-sign test."),
        Gloss(written="café", slug="cafe", title="Not ASCII."),
    ],
    key=lambda e: (-len(e.written), e.written),
)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Nothing to explain here.",
        "A Meta-Analysis of E:T ratios, then an E:T ratio (95% CI 1-2) and CIRCLE.",
        "META-ANALYSIS twice: meta-analysis.",
        "ci in lower case is not CI; CD56BRIGHT is not CD56bright.",
        "NKH1+T3- cells, NKH1+T3-x and xNKH1+T3-.",
        '<script>CI</script> & CI\'s "quotes"',
        "The \u017fkin (long s) and the \u212ailler (Kelvin sign) match under IGNORECASE.",
        "Caf\u00e9 and CAF\u00c9 and cafe.",
        "Non-ASCII text \u2014 with a meta-analysis and CI.",
    ],
)
def test_the_substring_test_changes_no_marking(text):
    assert str(gloss(text, GLOSS_ENTRIES)) == _gloss_by_patterns_alone(text, GLOSS_ENTRIES)
