"""A claim's parents (its therapy, abnormality, source and author) must exist when it is
saved. On PostgreSQL the database checks them as the row is written, inside the save's
savepoint, instead of one query per parent before it (curation/services.py
``_save_checked``); SQLite keeps Django's queries. Either way a parent that is gone is
a validation error at its field and nothing is written, through the service, the API
and the admin alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.services import record_create, record_edit
from tests.admin_helpers import change_form_data
from tests.factories import make_abnormality, make_evidence, make_source, make_therapy
from treatments.models import Therapy, TherapyEvidence

pytestmark = pytest.mark.django_db
ON_POSTGRESQL = connection.vendor == "postgresql"


def claim_fields(therapy, abnormality, source) -> dict:
    return {
        "therapy": therapy,
        "abnormality": abnormality,
        "link_kind": "measured",
        "source": source,
        "statement": "NK cell cytotoxicity rose in treated patients.",
        "direction": "supports",
        "level": "C",
    }


def existence_queries(captured) -> list[str]:
    """Django's ForeignKey.validate: ``SELECT 1 AS "a" FROM <parent> WHERE id = …``."""
    return [q["sql"] for q in captured if q["sql"].startswith('SELECT 1 AS "a"')]


def deleted(therapy: Therapy) -> Therapy:
    """The therapy's row deleted behind the caller's back; the object still says it is
    there, as one read a moment before a concurrent delete would."""
    Therapy.objects.filter(pk=therapy.pk).delete()
    return therapy


@pytest.fixture
def parents():
    return make_therapy(status="draft"), make_abnormality(), make_source()


def test_a_new_claims_parents_are_checked_by_the_database_on_postgresql(curator, parents):
    with CaptureQueriesContext(connection) as captured:
        claim = record_create(model=TherapyEvidence, fields=claim_fields(*parents), user=curator)
    assert claim.pk and claim.therapy_id == parents[0].pk
    if ON_POSTGRESQL:
        assert existence_queries(captured) == []
        assert any("SET CONSTRAINTS ALL IMMEDIATE" in q["sql"] for q in captured)
    else:
        # SQLite keeps Django's check: the therapy, abnormality, source and author.
        assert len(existence_queries(captured)) == 4


@pytest.mark.parametrize("where", ["create", "edit"])
def test_a_parent_gone_before_the_save_is_an_error_at_its_field(curator, parents, where):
    therapy, abnormality, source = parents
    if where == "create":
        fields, record = claim_fields(deleted(therapy), abnormality, source), None
    else:
        record = make_evidence(status="draft", created_by=curator, source=source)
        fields = {"therapy": deleted(therapy)}
    before = TherapyEvidence.objects.count(), TherapyEvidence.history.count()
    with pytest.raises(Exception) as raised:
        if record is None:
            record_create(model=TherapyEvidence, fields=fields, user=curator)
        else:
            record_edit(record=record, fields=fields, user=curator)
    assert type(raised.value).__name__ == "ValidationError"
    assert "therapy" in raised.value.message_dict
    assert "is not a valid choice" in " ".join(raised.value.message_dict["therapy"])
    assert (TherapyEvidence.objects.count(), TherapyEvidence.history.count()) == before
    if record is not None:
        record.refresh_from_db()
        assert record.therapy_id != therapy.pk


@pytest.fixture
def lose_the_therapy(monkeypatch):
    """A concurrent delete, staged: ``lose_the_therapy(after=n)`` deletes the claim's
    (draft) therapy at the start of every validation of the claim after the first ``n``,
    so that it is gone from then on, as a delete committed by someone else would be,
    even after the request's transaction is rolled back and the admin validates again."""

    def arm(after: int) -> None:
        clean_fields = TherapyEvidence.clean_fields
        calls = []

        def clean_fields_after_a_delete(self, exclude=None):
            calls.append(1)
            if len(calls) > after:
                Therapy.objects.filter(pk=self.therapy_id, status="draft").delete()
            clean_fields(self, exclude=exclude)

        monkeypatch.setattr(TherapyEvidence, "clean_fields", clean_fields_after_a_delete)

    return arm


def test_through_the_api_a_parent_deleted_during_the_save_is_a_400_at_its_field(
    curator_api, parents, lose_the_therapy
):
    # The serializer reads the therapy; the service's validation is the first.
    lose_the_therapy(after=0)
    therapy, abnormality, source = parents
    body = {
        **claim_fields(therapy, abnormality, source),
        "therapy": therapy.slug,
        "abnormality": abnormality.slug,
        "source": source.pk,
    }
    response = curator_api.post("/api/v1/evidence/", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert "therapy" in errors, errors
    assert not TherapyEvidence.objects.filter(statement=body["statement"]).exists()


def test_through_the_admin_a_parent_deleted_during_the_save_is_a_form_error(
    curator, curator_client, parents, lose_the_therapy
):
    # The form's validation finds the therapy; it is gone by the service's.
    lose_the_therapy(after=1)
    therapy, abnormality, source = parents
    claim = make_evidence(
        status="draft",
        created_by=curator,
        therapy=make_therapy(status="published"),
        abnormality=abnormality,
        source=source,
    )
    url = reverse("admin:treatments_therapyevidence_change", args=[claim.pk])
    data = change_form_data(curator_client.get(url))
    data["therapy"] = str(therapy.pk)
    response = curator_client.post(url, data)
    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert "is not a valid choice" in str(form_errors["therapy"]), form_errors
    claim.refresh_from_db()
    assert claim.therapy_id != therapy.pk
