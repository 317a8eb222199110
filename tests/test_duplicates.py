"""A source that may already be in the knowledge base: a warning on the admin's form
and a 409 in the API, each naming the source; a curator may still save a genuinely
different document, with the reason in its history."""

import pytest
from django.urls import reverse

from findings.duplicates import normalise_title
from findings.models import Source
from tests import factories
from tests.test_admin import empty_inlines

pytestmark = pytest.mark.django_db

# From shared/data/references.json (brenu2011_nk).
TITLE = (
    "Immunological abnormalities as potential biomarkers in Chronic Fatigue "
    "Syndrome/Myalgic Encephalomyelitis"
)
INLINES = ("findings", "therapy_evidence", "regulatory_statuses", "harms")


def add(client, **fields):
    return client.post(
        reverse("admin:findings_source_add"),
        {
            "key": "new",
            "kind": "journal_article",
            "title": "A study",
            **fields,
            **empty_inlines(*INLINES),
        },
    )


def test_titles_are_compared_without_case_accents_or_punctuation():
    assert normalise_title("Chronic fatigue syndrome--study.") == normalise_title(
        "CHRONIC FATIGUE SYNDROME: STUDY"
    )
    assert normalise_title("Müller\u2019s café") == "muller s cafe"


def test_a_near_identical_title_of_the_same_year_is_a_warning_with_a_link(curator_client):
    existing = factories.make_source(key="brenu2011_nk", title=TITLE, year=2011)

    response = add(curator_client, title=TITLE.lower() + ".", year="2011")

    assert response.status_code == 200
    html = response.content.decode()
    assert "This may be a source that is already in the knowledge base" in html
    assert reverse("admin:findings_source_change", args=[existing.pk]) in html
    assert "near-identical title in the same year (100% alike)" in html
    assert "This is a different document" in html
    assert not Source.objects.filter(key="new").exists()


def test_the_same_pmcid_is_a_warning(curator_client):
    # A synthetic record: the PMCID is test data, not a claim about a paper.
    factories.make_source(key="holder", pmcid="PMC3147318")

    response = add(curator_client, pmcid="pmc3147318")

    assert "the same PMCID (PMC3147318)" in response.content.decode()
    assert not Source.objects.filter(key="new").exists()


def test_another_year_or_another_title_is_no_warning(curator_client):
    factories.make_source(title=TITLE, year=2012)
    factories.make_source(title="Natural killer cell function in chronic fatigue", year=2011)

    response = add(curator_client, title=TITLE, year="2011")

    assert response.status_code == 302


def test_a_duplicate_doi_stays_a_field_error(curator_client):
    factories.make_source(key="brenu2011_nk", doi="10.1186/1479-5876-9-81")

    response = add(curator_client, doi="https://doi.org/10.1186/1479-5876-9-81")

    form = response.context["adminform"].form
    assert "brenu2011_nk" in form.errors["doi"][0]


def test_a_different_document_is_saved_with_the_reason_in_its_history(curator_client):
    factories.make_source(key="brenu2011_nk", title=TITLE, year=2011)

    response = add(
        curator_client,
        title=TITLE,
        year="2011",
        different_document="on",
        different_reason="Erratum with the same title",
    )

    assert response.status_code == 302
    record = Source.objects.get(key="new")
    assert record.history.first().history_change_reason == (
        "Not a duplicate of brenu2011_nk: Erratum with the same title"
    )


def test_ticking_different_document_without_a_reason_is_refused(curator_client):
    factories.make_source(title=TITLE, year=2011)

    response = add(curator_client, title=TITLE, year="2011", different_document="on")

    assert response.context["adminform"].form.errors["different_reason"]
    assert not Source.objects.filter(key="new").exists()


def test_a_reason_over_its_limit_is_refused_with_the_limit_named(curator_client):
    factories.make_source(title=TITLE, year=2011)

    response = add(
        curator_client,
        title=TITLE,
        year="2011",
        different_document="on",
        different_reason="x" * 81,
    )

    assert "at most 80 characters (it has 81)" in str(
        response.context["adminform"].form.errors["different_reason"]
    )


def test_editing_another_field_of_a_look_alike_does_not_warn_again(curator_client, curator):
    factories.make_source(title=TITLE, year=2011)
    draft = factories.make_source(
        key="draft", title=TITLE, year=2011, status="draft", created_by=curator
    )
    page = curator_client.get(reverse("admin:findings_source_change", args=[draft.pk]))
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(
        key="draft",
        kind="journal_article",
        title=TITLE,
        year="2011",
        container="A journal",
        **empty_inlines(*INLINES),
    )
    data = {k: v for k, v in data.items() if v is not None}

    response = curator_client.post(reverse("admin:findings_source_change", args=[draft.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Source.objects.get(pk=draft.pk).container == "A journal"


# --- the API -------------------------------------------------------------------------


def test_the_api_answers_409_naming_the_look_alike(curator_api):
    existing = factories.make_source(key="brenu2011_nk", title=TITLE, year=2011)

    response = curator_api.post(
        "/api/v1/sources/",
        {"key": "new", "kind": "journal_article", "title": TITLE, "year": 2011},
        format="json",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "possible_duplicate"
    assert f"/api/v1/sources/{existing.pk}/" in body["errors"]["title"][0]
    assert "different_document" in body["detail"]
    assert not Source.objects.filter(key="new").exists()


def test_the_api_saves_a_different_document_with_the_reason(curator_api):
    factories.make_source(key="holder", pmcid="PMC3147318")

    response = curator_api.post(
        "/api/v1/sources/",
        {
            "key": "new",
            "kind": "journal_article",
            "title": "Another",
            "pmcid": "PMC3147318",
            "different_document": True,
            "different_reason": "A supplement",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert "different_document" not in response.json()
    record = Source.objects.get(key="new")
    assert record.history.first().history_change_reason == "Not a duplicate of holder: A supplement"


def test_the_api_wants_a_reason_with_the_flag(curator_api):
    factories.make_source(title=TITLE, year=2011)

    response = curator_api.post(
        "/api/v1/sources/",
        {
            "key": "new",
            "kind": "journal_article",
            "title": TITLE,
            "year": 2011,
            "different_document": True,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "different_reason" in response.json()["errors"]


def test_an_api_patch_to_a_look_alike_title_is_a_409(curator_api, curator):
    factories.make_source(title=TITLE, year=2011)
    draft = factories.make_source(
        title="Something else", year=2011, status="draft", created_by=curator
    )

    response = curator_api.patch(f"/api/v1/sources/{draft.pk}/", {"title": TITLE}, format="json")

    assert response.status_code == 409
    assert Source.objects.get(pk=draft.pk).title == "Something else"
