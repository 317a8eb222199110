"""What curators paste is taken whole: identifiers are normalised on the server, and
text over a limit is refused with the limit named, never cut by the browser."""

import pytest
from django.urls import reverse

from findings.models import Source
from tests.test_admin import empty_inlines

PASTED = [
    # (field, what a curator pastes, what is stored)
    ("pmid", "PMID: 34828599", "34828599"),
    ("pmid", "https://pubmed.ncbi.nlm.nih.gov/34828599/", "34828599"),
    ("pmid", "  34828599  ", "34828599"),
    ("pmcid", "PMCID: PMC3147318", "PMC3147318"),
    ("pmcid", "https://pmc.ncbi.nlm.nih.gov/articles/PMC3147318/", "PMC3147318"),
    ("pmcid", "https://www.ncbi.nlm.nih.gov/pmc/articles/pmc3147318/", "PMC3147318"),
    ("doi", "https://dx.doi.org/10.1186/1479-5876-9-81", "10.1186/1479-5876-9-81"),
    ("doi", " doi: 10.1186/1479-5876-9-81 ", "10.1186/1479-5876-9-81"),
    # ClinicalTrials.gov: the number from references.json's rintatolimod trial record.
    ("nct_id", "nct00215813", "NCT00215813"),
    ("nct_id", "https://clinicaltrials.gov/study/NCT00215813", "NCT00215813"),
    ("nct_id", "https://clinicaltrials.gov/ct2/show/NCT00215813?term=x", "NCT00215813"),
    ("nct_id", "NCT Number: NCT00215813", "NCT00215813"),
]

LONG_TITLE = "A" * 5000


def admin_add(client, **fields):
    return client.post(
        reverse("admin:findings_source_add"),
        {
            "key": "pasted",
            "kind": "journal_article",
            "title": "A study",
            **fields,
            **empty_inlines("findings", "therapy_evidence", "regulatory_statuses", "harms"),
        },
    )


@pytest.mark.django_db
def test_the_source_form_sets_no_maxlength_that_a_browser_would_cut_a_paste_at(curator_client):
    response = curator_client.get(reverse("admin:findings_source_add"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ("title", "doi", "pmid", "pmcid", "url"):
        assert "maxlength" not in form[name].as_widget(), name


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "pasted", "stored"), PASTED)
def test_an_identifier_pasted_into_the_admin_is_stored_normalised(
    curator_client, field, pasted, stored
):
    response = admin_add(curator_client, **{field: pasted})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert getattr(Source.objects.get(key="pasted"), field) == stored


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "pasted", "stored"), PASTED)
def test_an_identifier_pasted_into_the_api_is_stored_normalised(curator_api, field, pasted, stored):
    response = curator_api.post(
        "/api/v1/sources/",
        {"key": "pasted", "kind": "journal_article", "title": "A study", field: pasted},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()[field] == stored
    assert getattr(Source.objects.get(key="pasted"), field) == stored


@pytest.mark.django_db
def test_a_title_over_the_limit_is_refused_in_the_admin_with_the_limit_named(curator_client):
    response = admin_add(curator_client, title=LONG_TITLE)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["title"] == [
        "Ensure this value has at most 500 characters (it has 5000)."
    ]
    assert not Source.objects.filter(key="pasted").exists()


@pytest.mark.django_db
def test_a_title_over_the_limit_is_refused_by_the_api_with_the_limit_named(curator_api):
    response = curator_api.post(
        "/api/v1/sources/",
        {"key": "pasted", "kind": "journal_article", "title": LONG_TITLE},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["title"] == [
        "Ensure this field has no more than 500 characters."
    ]
    assert not Source.objects.filter(key="pasted").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pasted", ["PMID: 12 34", "https://pubmed.ncbi.nlm.nih.gov/", "1234567890"]
)
def test_an_identifier_that_is_not_one_is_refused_not_guessed(curator_client, curator_api, pasted):
    response = admin_add(curator_client, pmid=pasted)
    assert response.status_code == 200
    assert "is not a PubMed ID" in response.context["adminform"].form.errors["pmid"][0]
    api = curator_api.post(
        "/api/v1/sources/",
        {"key": "pasted", "kind": "journal_article", "title": "A study", "pmid": pasted},
        format="json",
    )
    assert api.status_code == 400, api.content
    assert "pmid" in api.json()["errors"]
    assert not Source.objects.filter(key="pasted").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("pasted", ["NCT0021581", "NCT 00215813 5", "ISRCTN12345678"])
def test_a_trial_number_that_is_not_one_is_refused_not_guessed(curator_client, pasted):
    response = admin_add(curator_client, nct_id=pasted)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["nct_id"][0]
    assert "is not a ClinicalTrials.gov number" in errors
    assert not Source.objects.filter(key="pasted").exists()
