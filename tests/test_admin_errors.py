"""Errors in the admin stand at the field they concern; a value that must be unique and
is taken links to the record that has it (escaped), and nothing is saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from curation.admin import ModeratedForm
from findings.models import Abnormality, Source
from tests import factories
from tests.admin_helpers import change_form_data
from tests.test_admin import empty_inlines

pytestmark = pytest.mark.django_db

SOURCE_INLINES = empty_inlines("findings", "therapy_evidence", "regulatory_statuses")


def add_source(client, **fields):
    data = {"key": "copy", "kind": "journal_article", "title": "The same study again"}
    return client.post(reverse("admin:findings_source_add"), {**data, **fields, **SOURCE_INLINES})


def change_url(record) -> str:
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


@pytest.mark.parametrize(
    ("field", "existing", "pasted"),
    [
        ("doi", "10.1186/1479-5876-9-81", "https://doi.org/10.1186/1479-5876-9-81"),
        ("pmid", "21619669", "PMID: 21619669"),
        ("nct_id", "NCT01234567", "nct01234567"),
        ("key", "brenu2011_nk", "brenu2011_nk"),
    ],
)
def test_a_taken_identifier_is_an_error_at_its_field_linking_to_the_source_that_has_it(
    curator_client, field, existing, pasted
):
    holder = factories.make_source(
        key="brenu2011_nk" if field != "key" else existing,
        title="Immunological abnormalities",
        **({field: existing} if field != "key" else {}),
    )

    response = add_source(curator_client, **{field: pasted})

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == []
    assert list(form.errors) == [field]
    [message] = form.errors[field]
    assert "already exists" in message
    assert f'<a href="{change_url(holder)}" class="taken-link">' in message
    # Shown beside the field, not only in the list of errors at the top.
    page = response.content.decode()
    assert f'<a href="{change_url(holder)}" class="taken-link">' in page
    assert Source.objects.count() == 1


def test_the_link_names_the_other_record_and_escapes_its_text(curator_client):
    holder = factories.make_source(key="x", title="<script>alert(1)</script> & co", doi="10.1000/a")

    page = add_source(curator_client, doi="10.1000/A").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert change_url(holder) in page


def test_editing_a_source_onto_anothers_doi_links_to_the_other_one(curator_client, curator):
    other = factories.make_source(key="other", doi="10.1000/taken")
    mine = factories.make_source(key="mine", status="draft", created_by=curator)
    url = change_url(mine)
    data = change_form_data(curator_client.get(url))
    data["doi"] = "10.1000/TAKEN"

    response = curator_client.post(url, data)

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["doi"]
    assert change_url(other) in message
    assert change_url(mine) not in message
    mine.refresh_from_db()
    assert mine.doi == ""


def test_a_taken_name_or_slug_of_an_abnormality_links_to_it(curator_client):
    holder = factories.make_abnormality(name="Low NK cell cytotoxicity", slug="low-nk")

    response = curator_client.post(
        reverse("admin:findings_abnormality_add"),
        {
            "name": "Low NK cell cytotoxicity",
            "slug": "low-nk",
            "category": "cellular",
            "component": "NK cells",
            "change": "decreased",
            "summary": "Twice.",
            **empty_inlines("findings"),
        },
    )

    errors = response.context["adminform"].form.errors
    assert set(errors) == {"name", "slug"}
    for field in ("name", "slug"):
        assert "already exists" in errors[field][0]
        assert change_url(holder) in errors[field][0]
    assert Abnormality.objects.count() == 1


def test_a_doi_taken_between_the_check_and_the_save_is_still_a_field_error(
    curator_client, monkeypatch
):
    """The race: the form's own check passed, then the service's (under the database's
    constraint) refused. The page shows the error at the field, not a server error."""
    factories.make_source(key="first", doi="10.1000/race")
    checks = {"skipped": 0}
    original = ModeratedForm.validate_unique

    def skip_the_first_check(form):
        if checks["skipped"] == 0:
            checks["skipped"] += 1
            return None
        return original(form)

    monkeypatch.setattr(ModeratedForm, "validate_unique", skip_the_first_check)

    response = add_source(curator_client, doi="10.1000/race")

    assert checks["skipped"] == 1
    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["doi"]
    assert "already exists" in message
    assert Source.objects.count() == 1
