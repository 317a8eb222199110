"""Reader pages at literature scale (issue 6): every page stays bounded however much
evidence there is, and says where the rest is."""

import pytest
from django.core.cache import cache
from django.db import connection

from curation.models import Status
from findings.models import Direction, Level
from tests import factories
from treatments import views

pytestmark = pytest.mark.django_db


def test_a_therapy_page_shows_the_strongest_items_per_abnormality_and_links_to_all(
    client, monkeypatch
):
    monkeypatch.setattr(views, "EVIDENCE_PER_GROUP", 2)
    therapy = factories.make_therapy(slug="busy")
    nk = factories.make_abnormality(name="Low NK", slug="low-nk")
    for level, text in [(Level.D, "Weak one."), (Level.A, "Strong one."), (Level.C, "Middle.")]:
        factories.make_evidence(therapy=therapy, abnormality=nk, level=level, statement=text)
    for n in range(3):
        factories.make_evidence(therapy=therapy, abnormality=None, statement=f"General {n}.")

    html = client.get("/treatments/busy/").content.decode()

    assert "Strong one." in html and "Middle." in html
    assert "Weak one." not in html
    assert "The 2 strongest of 3 items." in html
    assert 'href="/treatments/busy/abnormalities/low-nk/"' in html
    assert "The 2 strongest of 3 items about ME/CFS in general." in html


def test_a_therapy_page_shows_evidence_for_the_strongest_abnormalities_only(client, monkeypatch):
    monkeypatch.setattr(views, "MAX_GROUPS", 1)
    therapy = factories.make_therapy(slug="busy")
    strong = factories.make_abnormality(name="Strong tie", slug="strong")
    weak = factories.make_abnormality(name="Weak tie", slug="weak")
    factories.make_evidence(therapy=therapy, abnormality=strong, level=Level.B, statement="B.")
    factories.make_evidence(therapy=therapy, abnormality=weak, level=Level.E, statement="E.")

    html = client.get("/treatments/busy/").content.decode()

    assert '<h3 id="group-strong">' in html
    assert '<h3 id="group-weak">' not in html
    # Still listed among the ties, with its link.
    assert 'href="/treatments/busy/abnormalities/weak/"' in html
    assert "The other 1 are listed" in html


def test_the_pair_page_is_paginated_without_counting_again(client, monkeypatch):
    monkeypatch.setattr(views, "PAIR_PAGE_SIZE", 2)
    therapy = factories.make_therapy(slug="busy")
    nk = factories.make_abnormality(slug="low-nk")
    for n, level in enumerate([Level.A, Level.B, Level.C]):
        factories.make_evidence(
            therapy=therapy, abnormality=nk, level=level, statement=f"Item {n}."
        )

    first = client.get("/treatments/busy/abnormalities/low-nk/").content.decode()
    second = client.get("/treatments/busy/abnormalities/low-nk/?page=2").content.decode()
    bad = client.get("/treatments/busy/abnormalities/low-nk/?page=9")

    assert "Item 0." in first and "Item 1." in first and "Item 2." not in first
    assert "Page 1 of 2" in first
    assert "Item 2." in second and "Item 0." not in second
    assert bad.status_code == 400
    assert "must be a whole number from 1 to 2" in bad.content.decode()


def test_a_therapy_card_names_its_strongest_ties_and_any_filtered_on(client, monkeypatch):
    monkeypatch.setattr(views, "TIES_PER_CARD", 1)
    therapy = factories.make_therapy(name="Busy", slug="busy")
    first = factories.make_abnormality(name="First tie", slug="first")
    second = factories.make_abnormality(name="Second tie", slug="second")
    third = factories.make_abnormality(name="Third tie", slug="third")
    factories.make_evidence(therapy=therapy, abnormality=first, level=Level.A)
    factories.make_evidence(therapy=therapy, abnormality=second, level=Level.B)
    factories.make_evidence(therapy=therapy, abnormality=third, level=Level.C)

    unfiltered = client.get("/treatments/").content.decode()
    filtered = client.get("/treatments/?abnormality=third").content.decode()

    assert "First tie" in unfiltered and "Third tie</a>" not in unfiltered
    assert "2 more abnormalities</a> on its page." in unfiltered
    assert "Third tie</a>" in filtered
    assert "1 more abnormality</a> on its page." in filtered


def test_the_overview_says_when_the_matrix_is_bounded(client, monkeypatch):
    monkeypatch.setattr("treatments.matrix.MAX_ROWS", 1)
    monkeypatch.setattr("treatments.matrix.MAX_COLUMNS", 1)
    for n in range(2):
        factories.make_evidence(
            therapy=factories.make_therapy(name=f"Therapy {n}"),
            abnormality=factories.make_abnormality(name=f"Abnormality {n}"),
        )

    html = client.get("/").content.decode()

    assert "tied to the most others; 1 more abnormality and 1 more therapy are in the" in html
    # Every abnormality can still be chosen to start from.
    assert html.count('<option value="abnormality-') == 2


def test_the_overview_is_rendered_once_per_publish(
    client, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.PUBLIC_CACHE_SECONDS = 600
    settings.PUBLIC_RESPONSE_CACHE = False
    cache.clear()
    evidence = factories.make_evidence(therapy=factories.make_therapy(name="Old name"))
    assert "Old name" in client.get("/").content.decode()

    with django_assert_num_queries(0):
        assert "Old name" in client.get("/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        evidence.therapy.name = "New name"
        evidence.therapy.save()

    assert "New name" in client.get("/").content.decode()
    cache.clear()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking runs on PostgreSQL")
def test_search_ranks_a_bounded_number_of_matches(client, monkeypatch):
    monkeypatch.setattr("treatments.search.RANK_CANDIDATES", 3)
    for n in range(6):
        factories.make_evidence(statement=f"Cytotoxicity claim number {n}.")
    factories.make_evidence(statement="Cytotoxicity draft.", status=Status.DRAFT)

    response = client.get("/search/?q=cytotoxicity")

    assert response.status_code == 200
    assert len(response.context["results"].evidence) == 3
    assert "Cytotoxicity draft." not in response.content.decode()


def _abnormality_with_findings(supporting: int, against: int):
    abnormality = factories.make_abnormality(slug="busy")
    source = factories.make_source()
    for n in range(supporting):
        factories.make_finding(
            abnormality=abnormality, source=source, level=Level.C, statement=f"For {n}."
        )
    for n in range(against):
        factories.make_finding(
            abnormality=abnormality,
            source=source,
            direction=Direction.DOES_NOT_SUPPORT,
            level=Level.B,
            statement=f"Against {n}.",
        )
    return abnormality, source


def test_an_abnormality_page_lists_its_findings_a_page_at_a_time(client, monkeypatch):
    monkeypatch.setattr("findings.views.FINDINGS_PAGE_SIZE", 2)
    _abnormality_with_findings(supporting=3, against=2)

    first = client.get("/abnormalities/busy/?sort=x").content.decode()
    second = client.get("/abnormalities/busy/?page=2&sort=x").content.decode()
    third = client.get("/abnormalities/busy/?page=3").content.decode()

    # The groups' numbers count every finding, whatever the page.
    for html in (first, second, third):
        assert "Findings that support it (3)" in html
        assert "Findings that do not support it (2)" in html
    assert "For 0." in first and "For 1." in first and "For 2." not in first
    assert "Showing findings 1\N{EN DASH}2 of 5" in first
    assert "Page 1 of 3" in first
    # Previous/next keep the other parameters and land on the list.
    assert 'href="?sort=x&amp;page=2#findings-heading" rel="next"' in first
    assert "Listed on page 2 of this list." in first or "Listed on pages" in first
    assert "For 2." in second and "Against 0." in second
    assert "Showing findings 3\N{EN DASH}4 of 5" in second
    assert 'href="?page=1&amp;sort=x#findings-heading" rel="prev"' in second
    assert "Against 1." in third and "Showing findings 5\N{EN DASH}5 of 5" in third
    assert 'href="?page=1#findings-heading"' in third  # where the supporting ones are


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "4", "9" * 40])
def test_a_bad_page_of_an_abnormality_page_is_a_400_naming_it(client, monkeypatch, page):
    monkeypatch.setattr("findings.views.FINDINGS_PAGE_SIZE", 2)
    _abnormality_with_findings(supporting=3, against=2)

    response = client.get(f"/abnormalities/busy/?page={page}")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Page" in html and ("whole number" in html or "only 3 pages" in html)
    # The first page is shown under the message.
    assert "For 0." in html


def test_a_findings_own_address_leads_to_the_page_that_lists_it(client, monkeypatch):
    monkeypatch.setattr("findings.views.FINDINGS_PAGE_SIZE", 2)
    abnormality, source = _abnormality_with_findings(supporting=3, against=2)
    last = abnormality.findings.get(statement="Against 1.")
    first = abnormality.findings.get(statement="For 0.")
    test_only = factories.make_finding(
        abnormality=None, lab_test=factories.make_lab_test(), source=source
    )

    assert client.get(f"/findings/{last.pk}/")["Location"] == (
        f"/abnormalities/busy/?page=3#finding-{last.pk}"
    )
    assert client.get(f"/findings/{first.pk}/")["Location"] == (
        f"/abnormalities/busy/#finding-{first.pk}"
    )
    assert client.get(f"/findings/{test_only.pk}/")["Location"] == (
        f"/sources/{source.pk}/#finding-{test_only.pk}"
    )
    draft = factories.make_finding(abnormality=abnormality, status=Status.DRAFT)
    assert client.get(f"/findings/{draft.pk}/").status_code == 404
    html = client.get(f"/abnormalities/busy/?page=3#finding-{last.pk}").content.decode()
    assert f'id="finding-{last.pk}"' in html


@pytest.mark.parametrize("findings", [3, 12])
def test_an_abnormality_page_stays_bounded_in_size_and_queries(
    client, monkeypatch, django_assert_num_queries, findings
):
    monkeypatch.setattr("findings.views.FINDINGS_PAGE_SIZE", 2)
    _abnormality_with_findings(supporting=findings, against=findings)
    client.get("/abnormalities/busy/")  # the glossary, read once per process

    # abnormality; findings counted by group; the page of findings with source and lab
    # test; recently retracted findings; lab tests; therapies; recently retracted therapy
    # evidence; glossary terms; data version.
    with django_assert_num_queries(9):
        response = client.get("/abnormalities/busy/?page=2")

    assert response.content.decode().count('<article class="evidence') == 2
    assert len(response.content) < 20_000


@pytest.mark.parametrize("claims", [3, 12])
def test_a_source_page_lists_its_claims_a_page_at_a_time(
    client, monkeypatch, django_assert_num_queries, claims
):
    monkeypatch.setattr("findings.views.SOURCE_PAGE_SIZE", 2)
    source = factories.make_source()
    for n in range(claims):
        factories.make_finding(source=source, statement=f"Finding {n}.")
        factories.make_evidence(source=source, statement=f"Evidence {n}.")

    # source; findings counted; evidence counted; the page's findings; recently retracted
    # findings; recently retracted evidence; statuses; harms; glossary; data version.
    with django_assert_num_queries(10):
        response = client.get(f"/sources/{source.pk}/?page=1")
    last = client.get(f"/sources/{source.pk}/?page={claims}").content.decode()
    bad = client.get(f"/sources/{source.pk}/?page={claims + 1}")

    html = response.content.decode()
    assert response.status_code == 200
    assert f"About abnormalities in ME/CFS ({claims})" in html
    assert f"About therapies ({claims})" in html
    assert f"Showing claims 1\N{EN DASH}2 of {2 * claims}" in html
    assert html.count('<article class="evidence') == 2
    assert "Finding 1." in html and "Finding 2." not in html
    assert "Evidence 0." not in html and "Listed on page" in html
    assert f"Evidence {claims - 1}." in last and "Finding 0." not in last
    assert bad.status_code == 400
    assert "only" in bad.content.decode()
