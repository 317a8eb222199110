"""The penetration test's review bypasses (issue 19, items 1-3), replayed: each must
leave what readers see unchanged."""

import pytest
from django.test import Client
from django.urls import reverse

from curation.models import Status, Suggestion
from curation.services import ReviewPermissionError, record_publish, record_submit
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.models import RegulatoryStatus, TherapyEvidence

pytestmark = pytest.mark.django_db


def test_a_curator_cannot_change_a_published_claim_through_an_inline_row(
    curator_client, api_client, client
):
    evidence = factories.make_evidence(level="B", statement="As reviewed.")
    url = reverse("admin:treatments_therapy_change", args=[evidence.therapy.pk])
    data = change_form_data(curator_client.get(url))
    prefix = next(key[: -len("-statement")] for key in data if key.endswith("-statement"))
    data[f"{prefix}-statement"] = "Cures ME/CFS."
    data[f"{prefix}-level"] = "A"

    curator_client.post(url, data)

    evidence.refresh_from_db()
    assert (evidence.statement, evidence.level, evidence.status) == (
        "As reviewed.",
        "B",
        Status.PUBLISHED,
    )
    assert api_client.get(f"/api/v1/evidence/{evidence.pk}/").json()["level"] == "B"
    assert "Cures ME/CFS." not in client.get(evidence.therapy.get_absolute_url()).content.decode()
    # The change is not lost: it waits for another editor.
    suggestion = Suggestion.objects.for_record(evidence).get()
    assert suggestion.changes["level"] == {"old": "B", "new": "A"}


def test_a_curator_cannot_change_a_published_regulatory_status_from_the_source_page(
    curator_client,
):
    status = factories.make_regulatory_status(statement="Approved in Argentina.")
    url = reverse("admin:findings_source_change", args=[status.source.pk])
    data = change_form_data(curator_client.get(url))
    prefix = next(key[: -len("-jurisdiction")] for key in data if key.endswith("-jurisdiction"))
    data[f"{prefix}-statement"] = "Approved everywhere."

    curator_client.post(url, data)

    assert RegulatoryStatus.objects.get(pk=status.pk).statement == "Approved in Argentina."


def test_reposting_an_old_version_from_history_does_not_republish_it(curator, editor, client):
    other_editor = factories.make_editor()
    evidence = factories.make_evidence(
        status=Status.DRAFT, created_by=curator, statement="IVIG cures ME/CFS.", level="A"
    )
    old = evidence.history.first()
    evidence.statement, evidence.level = "IVIG was tested in two trials.", "B"
    evidence.save()
    record_submit(record=evidence, user=curator)
    record_publish(record=evidence, user=other_editor)

    curator_client = Client()
    curator_client.force_login(curator)
    url = reverse(
        "admin:treatments_therapyevidence_simple_history", args=[evidence.pk, old.history_id]
    )
    curator_client.post(url, change_form_data(curator_client.get(url)))

    evidence.refresh_from_db()
    assert (evidence.statement, evidence.level) == ("IVIG was tested in two trials.", "B")
    page = client.get(evidence.therapy.get_absolute_url()).content.decode()
    assert "IVIG cures ME/CFS." not in page
    # The revert is a change like any other: a suggestion, against the current version.
    suggestion = Suggestion.objects.for_record(evidence).get()
    assert suggestion.changes["statement"]["new"] == "IVIG cures ME/CFS."


def test_an_editor_cannot_publish_text_they_rewrote_in_someone_elses_draft(
    curator, editor, editor_api
):
    evidence = factories.make_evidence(
        status=Status.DRAFT, created_by=curator, level="D", direction="does_not_support"
    )
    response = editor_api.patch(
        f"/api/v1/evidence/{evidence.pk}/",
        {"level": "A", "direction": "supports"},
        format="json",
    )
    assert response.status_code == 200, response.content
    record_submit(record=evidence, user=curator)

    with pytest.raises(ReviewPermissionError, match="edited"):
        record_publish(record=evidence, user=editor)
    answer = editor_api.post(f"/api/v1/evidence/{evidence.pk}/publish/", {}, format="json")
    assert answer.status_code == 403
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED
