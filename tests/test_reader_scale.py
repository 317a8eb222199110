"""Reader pages at literature scale (issue 6): every page stays bounded however much
evidence there is, and says where the rest is."""

import pytest
from django.core.cache import cache
from django.db import connection

from curation.models import Status
from findings.models import Level
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
