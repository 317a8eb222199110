"""Therapy, pair, abnormality and source pages."""

import pytest

from curation.models import Status
from findings.models import Availability, Direction, Level
from tests import factories
from treatments.models import LinkKind, RegulatoryStatusKind

pytestmark = pytest.mark.django_db


# --- therapy -----------------------------------------------------------------


def test_a_therapy_page_groups_its_evidence_by_abnormality_in_plain_words(client):
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod", aliases="Ampligen")
    rnase = factories.make_abnormality(name="RNase L pathway dysfunction", slug="rnase-l")
    factories.make_evidence(
        therapy=therapy,
        abnormality=rnase,
        link_kind=LinkKind.MEASURED,
        statement="Measured the pathway before and after.",
        quote="verbatim words",
    )
    factories.make_evidence(therapy=therapy, abnormality=None, statement="Helped in general.")
    factories.make_evidence(therapy=therapy, statement="Draft claim.", status=Status.DRAFT)
    factories.make_regulatory_status(
        therapy=therapy,
        jurisdiction="Argentina",
        regulatory_status=RegulatoryStatusKind.APPROVED_FOR_MECFS,
    )
    factories.make_harm(therapy=therapy, effect="Flu-like symptoms")

    response = client.get("/treatments/rintatolimod/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Also called: Ampligen" in html
    assert '<h3 id="group-rnase-l">' in html
    assert "Measured — the therapy&#x27;s effect on the abnormality itself was measured" in html
    assert "<blockquote" in html and "verbatim words" in html
    assert "ME/CFS in general (no specific abnormality)" in html
    assert "Helped in general." in html
    assert "Draft claim." not in html
    assert "<strong>Argentina</strong>: Approved for ME/CFS" in html
    assert "Harms and risks" in html and "Flu-like symptoms" in html
    assert html.count('class="sources"') == 1


def test_a_summary_without_a_quote_is_never_shown_as_a_quotation(client):
    therapy = factories.make_therapy(slug="plain")
    factories.make_evidence(therapy=therapy, statement="Our summary.", quote="")

    html = client.get("/treatments/plain/").content.decode()

    assert "Our summary." in html
    assert "<blockquote" not in html


def test_contradicting_evidence_is_shown_beside_the_claim(client):
    therapy = factories.make_therapy(slug="claimed")
    claim = factories.make_evidence(therapy=therapy, statement="It is in phase II trials.")
    finding = factories.make_finding(statement="No such trial was found.")
    claim.contradicting_findings.add(finding)
    hidden = factories.make_finding(statement="A draft contradiction.", status=Status.DRAFT)
    claim.contradicting_findings.add(hidden)

    html = client.get("/treatments/claimed/").content.decode()

    assert "Contradicted by:" in html
    assert "No such trial was found." in html
    assert "A draft contradiction." not in html


def test_draft_and_unknown_therapies_are_not_found(client):
    factories.make_therapy(slug="drafty", status=Status.DRAFT)

    assert client.get("/treatments/drafty/").status_code == 404
    response = client.get("/treatments/no-such-thing/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


# --- pair --------------------------------------------------------------------


def test_the_pair_page_lists_only_that_pairs_published_evidence(client):
    therapy = factories.make_therapy(name="Rintatolimod", slug="rintatolimod")
    rnase = factories.make_abnormality(name="RNase L pathway dysfunction", slug="rnase-l")
    factories.make_evidence(therapy=therapy, abnormality=rnase, statement="Pair claim.")
    factories.make_evidence(
        therapy=therapy,
        abnormality=rnase,
        statement="Against.",
        direction=Direction.DOES_NOT_SUPPORT,
        level=Level.D,
    )
    factories.make_evidence(therapy=therapy, statement="Other abnormality.")
    factories.make_evidence(therapy=therapy, abnormality=rnase, statement="Draft.", status="draft")

    response = client.get("/treatments/rintatolimod/abnormalities/rnase-l/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Rintatolimod and RNase L pathway dysfunction</h1>" in html
    assert "Pair claim." in html and "Against." in html
    assert "Other abnormality." not in html and "Draft." not in html
    assert 'data-pair="rintatolimod/rnase-l"' in html
    assert "2 counted:" in html and ">1 for · 1 against · 0 other<" in html


def test_a_pair_with_a_draft_side_is_not_found(client):
    factories.make_therapy(slug="t")
    draft = factories.make_abnormality(slug="hidden", status=Status.DRAFT)

    assert client.get("/treatments/t/abnormalities/hidden/").status_code == 404
    assert client.get("/treatments/t/abnormalities/unknown/").status_code == 404
    assert client.get(f"/treatments/nope/abnormalities/{draft.slug}/").status_code == 404


# --- abnormality ---------------------------------------------------------------


def test_an_abnormality_page_shows_findings_for_and_against_tests_and_ranked_therapies(client):
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk", aliases="LNKS")
    factories.make_finding(abnormality=nk, statement="Lower killing in patients.")
    factories.make_finding(
        abnormality=nk, statement="No difference found.", direction=Direction.DOES_NOT_SUPPORT
    )
    factories.make_finding(abnormality=nk, statement="Draft finding.", status=Status.DRAFT)
    test = factories.make_lab_test(
        name="NK cell function assay", availability=Availability.SPECIALIST
    )
    test.abnormalities.add(nk)
    factories.make_lab_test(name="Draft test", status=Status.DRAFT).abnormalities.add(nk)
    weak = factories.make_therapy(name="Weak one", slug="weak")
    strong = factories.make_therapy(name="Strong one", slug="strong")
    factories.make_evidence(therapy=weak, abnormality=nk, level=Level.D)
    factories.make_evidence(therapy=strong, abnormality=nk, level=Level.B)
    hidden = factories.make_therapy(name="Hidden therapy", status=Status.DRAFT)
    factories.make_evidence(therapy=hidden, abnormality=nk, level=Level.A)

    response = client.get("/abnormalities/low-nk/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Also called: LNKS" in html
    assert "Findings that support it (1)" in html and "Lower killing in patients." in html
    assert "Findings that do not support it (1)" in html and "No difference found." in html
    assert "Draft finding." not in html
    assert "NK cell function assay" in html
    assert "Specialist (immunology or referral labs)" in html
    assert "Draft test" not in html
    assert [row.therapy.name for row in response.context["therapies"]] == [
        "Strong one",
        "Weak one",
    ]
    assert "Hidden therapy" not in html
    assert 'href="/treatments/strong/abnormalities/low-nk/"' in html


def test_draft_abnormalities_are_not_found(client):
    factories.make_abnormality(slug="drafty", status=Status.DRAFT)

    assert client.get("/abnormalities/drafty/").status_code == 404


# --- source ------------------------------------------------------------------


def test_a_source_page_cites_links_and_lists_every_published_claim(client):
    source = factories.make_source(
        key="brenu2011_nk",
        title="Immunological abnormalities as potential biomarkers",
        authors="Brenu EW, Van Driel ML, et al.",
        container="Journal of Translational Medicine",
        year=2011,
        doi="10.1186/1479-5876-9-81",
        pmid="21619669",
    )
    nk = factories.make_abnormality(name="Low NK cell cytotoxicity")
    factories.make_finding(abnormality=nk, source=source, statement="Finding here.")
    factories.make_evidence(source=source, statement="Evidence here.")
    factories.make_regulatory_status(source=source, statement="Status here.")
    factories.make_evidence(source=source, statement="Draft here.", status=Status.DRAFT)

    html = client.get(source.get_absolute_url()).content.decode()

    assert '<a href="https://doi.org/10.1186/1479-5876-9-81" rel="external">' in html
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/21619669/" rel="external">' in html
    assert "Finding here." in html and "Evidence here." in html and "Status here." in html
    assert "Draft here." not in html
    assert "retracted" not in html.lower()
    assert (
        "Brenu EW, Van Driel ML, et al. (2011). Immunological abnormalities as potential "
        "biomarkers. Journal of Translational Medicine. doi:10.1186/1479-5876-9-81 "
        "PMID: 21619669"
    ) in html
    assert "@article{brenu2011_nk," in html
    assert "author = {Brenu, E. W. and Van Driel, M. L. and others}" in html
    assert "journal = {Journal of Translational Medicine}" in html
    assert "doi = {10.1186/1479-5876-9-81}" in html


def test_a_retracted_source_carries_a_banner(client):
    source = factories.make_source(retracted=True, retraction_note="Data could not be verified.")

    html = client.get(source.get_absolute_url()).content.decode()

    assert "This source has been retracted" in html
    assert "Data could not be verified." in html
    assert "note = {Retracted}" in html


def test_bibtex_escapes_special_characters(client):
    source = factories.make_source(title="IgG & IgM: 50% {up}", authors="World Health Org_")

    html = client.get(source.get_absolute_url()).content.decode()

    assert r"title = {{IgG \&amp; IgM: 50\% \{up\}}}" in html
    assert r"author = {{World Health Org\_}}" in html


def test_draft_and_unknown_sources_are_not_found(client):
    draft = factories.make_source(status=Status.DRAFT)

    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/sources/999999999/").status_code == 404
