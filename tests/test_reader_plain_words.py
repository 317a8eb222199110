"""Plain words on every reader page (issue 18.4), read from the seed and the issue-17
literature as ``make run`` loads them: no citation key, no slug, no "Anon." and no bare
"n.d."; the glossary explains the measures and markers readers meet; and search finds
what patients type."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from findings.models import Abnormality, GlossaryTerm, Source
from tests import factories
from treatments.models import Therapy, TherapyEvidence
from treatments.search import search

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The seed and the literature, loaded once for the module's tests, which only read
    (each still runs in its own savepoint); rolled back after them."""
    with factories.seed_for_module(django_db_blocker):
        yield


def visible_text(html: str) -> str:
    """What a reader reads in the page's main part: no tags, no attributes (links and
    ids may hold slugs), entities decoded, spaces collapsed. ``title`` attributes are
    read too: a glossary tip is text a reader sees. Left out: the BibTeX and RIS
    records a source page offers to copy (``<pre>``), whose entry key is part of the
    format a reference manager reads, not words for readers."""
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"<pre\b.*?</pre>", " ", main, flags=re.S)
    titles = " ".join(re.findall(r'title="([^"]*)"', main))
    text = re.sub(r"<[^>]+>", "", main)
    return re.sub(r"\s+", " ", html_lib.unescape(f"{text} {titles}"))


def reader_pages() -> list[str]:
    pages = ["/", "/treatments/", "/abnormalities/", "/gaps/", "/glossary/", "/search/"]
    pages += [f"/sources/?page={n}" for n in (1, 2)]
    pages += [t.get_absolute_url() for t in Therapy.objects.published()]
    pages += [a.get_absolute_url() for a in Abnormality.objects.published()]
    pages += [s.get_absolute_url() for s in Source.objects.visible()]
    pairs = (
        TherapyEvidence.objects.published()
        .filter(abnormality__isnull=False)
        .values_list("therapy__slug", "abnormality__slug")
        .distinct()
    )
    pages += [f"/treatments/{t}/abnormalities/{a}/" for t, a in pairs]
    pages += [f"/search/?q={q}" for q in ("NK", "sizofiran", "IgG", "naltrexone", "Ampligen")]
    return pages


def test_no_reader_page_shows_a_citation_key_a_slug_anon_or_a_bare_nd(client, seeded):
    keys = set(Source.objects.values_list("key", flat=True))
    key_pattern = re.compile(r"(?<![\w/.-])(?:" + "|".join(map(re.escape, keys)) + r")(?![\w])")
    # A key's shape, for keys typed into text that no source holds (yet).
    key_shape = re.compile(r"\b[a-z]+[0-9]{4}_[a-z0-9_]+\b|\b(?:reg|nct|kb)_[a-z0-9_]+\b")
    slugs = {
        *Therapy.objects.values_list("slug", flat=True),
        *Abnormality.objects.values_list("slug", flat=True),
    }
    slug_pattern = re.compile(
        r"(?<![\w/-])(?:" + "|".join(re.escape(s) for s in slugs if "-" in s) + r")(?![\w-])"
    )

    problems = []
    pages = reader_pages()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        for what, pattern in (
            ("citation key", key_pattern),
            ("key-shaped word", key_shape),
            ("slug", slug_pattern),
            ("Anon.", re.compile(r"\bAnon\.")),
            ("n.d.", re.compile(r"\bn\.d\.")),
        ):
            problems += [(url, what, found) for found in pattern.findall(text)]
    assert len(pages) > 100
    assert problems == []


def test_a_source_without_authors_is_credited_to_its_organisation_or_shown_by_title(client, seeded):
    page = Source.objects.get(key="reg_hbot_cfs_status").get_absolute_url()
    text = visible_text(client.get(page).content.decode())
    assert "HyperbaricLink, no date" in text

    evidence = TherapyEvidence.objects.get(source__key="kb_reference_check")
    pair_page = client.get(evidence.therapy.get_absolute_url()).content.decode()
    assert "Checked references of the ME/CFS Immune Knowledge Base (references.json) (no date)" in (
        visible_text(pair_page)
    )


def test_notes_name_their_sources_by_author_and_year(client, seeded):
    nk = Abnormality.objects.get(slug="low-nk-cell-cytotoxicity")
    text = visible_text(client.get(nk.get_absolute_url()).content.decode())

    assert "(Baraniuk 2024, level A)" in text
    assert "Nishikai 1992" in text
    ldn = Therapy.objects.get(slug="low-dose-naltrexone")
    text = visible_text(
        client.get(f"{ldn.get_absolute_url()}abnormalities/{nk.slug}/").content.decode()
    )
    assert "Polo 2019 did not measure NK cells" in text


def test_the_glossary_defines_the_measures_and_markers_readers_meet(client, seeded):
    html = client.get("/glossary/").content.decode()

    for term in ("Hedges g", "E:T ratio", "NKH1+T3-", "CD56bright", "SMD", "CI"):
        assert f"<dfn>{html_lib.escape(term)}</dfn>" in html, term
    assert "<dfn>Level A</dfn>" in html
    # Every published term says where its definition comes from.
    assert (
        not GlossaryTerm.objects.published()
        .filter(source=None, source_note="")
        .exclude(slug__in=["placebo", "open-label"])
    )


def test_reader_text_explains_the_glossarys_terms_where_they_occur(client, seeded):
    nk = Abnormality.objects.get(slug="low-nk-cell-cytotoxicity")
    html = client.get(nk.get_absolute_url()).content.decode()

    hedges = GlossaryTerm.objects.get(slug="hedges-g")
    assert (
        f'<abbr class="gloss" title="{html_lib.escape(hedges.short_definition)}">Hedges g</abbr>'
        in (html.replace("&#x27;", "'").replace("'", "&#x27;"))
    )
    assert '<abbr class="gloss" title="Effector-to-target ratio' in html
    assert ">E:T ratios</abbr>" in html
    count = Abnormality.objects.get(slug="low-nk-cell-count")
    html = client.get(count.get_absolute_url()).content.decode()
    assert ">NKH1+T3-</abbr>" in html


def test_search_understands_the_words_of_issue_18(seeded):
    results = search("NK cell function")
    [nk] = [u for u in results.understood if u.record.slug == "low-nk-cell-cytotoxicity"]
    names = [name for name, _slug in nk.therapies]
    assert "Inosine pranobex" in names and "Low-dose naltrexone" in names

    results = search("poly I:C")
    assert [t.slug for t in results.therapies] == ["rintatolimod"]

    assert not [s for s in search("NK").sources if "HyperbaricLink" in s.title]

    [phase_ii] = [
        e for e in search("sizofiran Phase II").evidence if "is in Phase II" in e.statement
    ]
    assert phase_ii.contradicted


def test_the_contradicted_sizofiran_claim_is_flagged_on_the_search_page(client, seeded):
    html = client.get("/search/?q=sizofiran").content.decode()
    item = html[: html.index("is in Phase II trials for CFS.")]
    assert item[item.rindex("<li>") :].count("contradicted-tag") == 1
