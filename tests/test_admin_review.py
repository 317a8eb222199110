"""Review actions, history and recovery in the curators' admin (same service as the API)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from curation.models import Status, Suggestion
from curation.services import record_retract, record_submit
from findings.models import Abnormality, Finding, Source
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def act(client, model, action, records, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(r.pk) for r in records], **extra}
    return client.post(changelist(model), data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def submitted_finding(curator):
    finding = factories.make_finding(status=Status.DRAFT, created_by=curator)
    record_submit(record=finding, user=curator)
    return finding


def test_a_curator_submits_drafts_with_the_admin_action(curator_client, curator):
    finding = factories.make_finding(status=Status.DRAFT, created_by=curator)

    response = act(curator_client, Finding, "submit_selected", [finding])

    assert response.status_code == 200
    finding.refresh_from_db()
    assert finding.status == Status.SUBMITTED
    assert finding.submitted_by == curator
    assert any("Submitted for review" in m for m in messages_of(response))


def test_curators_are_not_offered_the_editors_actions(curator_client, curator):
    finding = submitted_finding(factories.make_curator())

    page = curator_client.get(changelist(Finding))
    actions = dict(page.context["action_form"].fields["action"].choices)
    assert "submit_selected" in actions
    assert "publish_selected" not in actions

    act(curator_client, Finding, "publish_selected", [finding])
    assert Finding.objects.get(pk=finding.pk).status == Status.SUBMITTED


def test_an_editor_publishes_with_the_admin_action(editor_client, editor, curator):
    finding = submitted_finding(curator)

    response = act(editor_client, Finding, "publish_selected", [finding])

    finding.refresh_from_db()
    assert finding.status == Status.PUBLISHED
    assert finding.reviewed_by == editor
    assert any("Published" in m for m in messages_of(response))


def test_the_admin_refuses_an_editor_publishing_their_own_submission(editor_client, editor):
    finding = submitted_finding(editor)

    response = act(editor_client, Finding, "publish_selected", [finding])

    assert Finding.objects.get(pk=finding.pk).status == Status.SUBMITTED
    assert any("nobody publishes their own work" in m for m in messages_of(response))


def test_reject_asks_for_a_note_and_refuses_without_one(editor_client, curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    record_submit(record=evidence, user=curator)

    page = act(editor_client, TherapyEvidence, "reject_selected", [evidence])
    assert page.templates[0].name == "admin/moderation_note.html"

    refused = act(
        editor_client, TherapyEvidence, "reject_selected", [evidence], apply="1", note=" "
    )
    assert "A note is required to reject" in refused.content.decode()
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED

    done = act(
        editor_client, TherapyEvidence, "reject_selected", [evidence], apply="1", note="No source."
    )
    evidence.refresh_from_db()
    assert evidence.status == Status.REJECTED
    assert evidence.review_note == "No source."
    assert any("Rejected" in m for m in messages_of(done))


def test_retract_with_a_note_keeps_the_record(editor_client, editor):
    evidence = factories.make_evidence()

    act(
        editor_client, TherapyEvidence, "retract_selected", [evidence], apply="1", note="Withdrawn."
    )

    evidence.refresh_from_db()
    assert evidence.status == Status.RETRACTED
    assert evidence.reviewed_by == editor


def test_nobody_sets_the_status_by_editing_the_form(editor_client):
    abnormality = factories.make_abnormality(status=Status.DRAFT)
    url = reverse("admin:findings_abnormality_change", args=[abnormality.pk])
    page = editor_client.get(url)
    assert "status" not in page.context["adminform"].form.fields

    data = change_form_data(page)
    data.update(status=Status.PUBLISHED, review_note="sneaky", summary="Edited summary.")
    response = editor_client.post(url, data)

    assert response.status_code == 302
    abnormality.refresh_from_db()
    assert abnormality.summary == "Edited summary."
    assert abnormality.status == Status.DRAFT
    assert abnormality.review_note == ""


def test_the_history_page_names_who_changed_what_and_why(editor_client, editor, curator):
    finding = submitted_finding(curator)
    act(editor_client, Finding, "publish_selected", [finding])

    response = editor_client.get(reverse("admin:findings_finding_history", args=[finding.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert curator.username in html
    assert editor.username in html
    assert "Submitted" in html
    assert "Published" in html


def test_an_admin_edit_is_recorded_with_the_user(editor_client, editor):
    source = factories.make_source(status=Status.DRAFT)
    url = reverse("admin:findings_source_change", args=[source.pk])
    data = change_form_data(editor_client.get(url))
    data["title"] = "A corrected title"

    assert editor_client.post(url, data).status_code == 302

    last = Source.objects.get(pk=source.pk).history.first()
    assert last.history_user == editor
    assert last.title == "A corrected title"


def test_a_deleted_record_is_listed_and_restored_from_history(editor_client, editor):
    abnormality = factories.make_abnormality(
        name="Low widget count", slug="low-widget-count", status=Status.DRAFT
    )
    pk = abnormality.pk
    response = editor_client.post(
        reverse("admin:findings_abnormality_delete", args=[pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Abnormality.objects.filter(pk=pk).exists()

    deleted = editor_client.get(reverse("admin:findings_abnormality_deleted"))
    assert "Low widget count" in deleted.content.decode()
    assert editor.username in deleted.content.decode()

    version = Abnormality.history.filter(id=pk, history_type="-").get()
    url = reverse("admin:findings_abnormality_simple_history", args=[pk, version.history_id])
    data = change_form_data(editor_client.get(url))
    restored = editor_client.post(url, data)

    assert restored.status_code == 302
    again = Abnormality.objects.get(pk=pk)
    assert again.slug == "low-widget-count"
    assert again.history.first().history_user == editor
    # Back, but not public until an editor reviews it again.
    assert again.status == Status.DRAFT
    assert again.history.first().history_change_reason == "Restored from history as a draft"


def test_reverting_to_an_old_version_keeps_the_current_review_state(editor_client, curator):
    therapy = factories.make_therapy(summary="First summary.")
    published_version = therapy.history.first()
    record_retract(record=therapy, user=factories.make_editor(), note="Withdrawn for errors.")

    url = reverse(
        "admin:treatments_therapy_simple_history",
        args=[therapy.pk, published_version.history_id],
    )
    data = change_form_data(editor_client.get(url))
    assert editor_client.post(url, data).status_code == 302

    therapy.refresh_from_db()
    assert therapy.summary == "First summary."
    assert therapy.status == Status.RETRACTED  # not silently re-published
    assert therapy.review_note == "Withdrawn for errors."


def test_a_curator_cannot_open_the_recover_page_without_change_rights(client):
    viewer = factories.make_user()
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    response = client.get(reverse("admin:findings_abnormality_deleted"))
    assert response.status_code == 403


def test_a_curators_change_to_a_published_record_waits_as_a_suggestion(curator_client, client):
    source = factories.make_source(title="The published title")
    url = reverse("admin:findings_source_change", args=[source.pk])
    data = change_form_data(curator_client.get(url))
    data["title"] = "A curator's unreviewed change"

    response = curator_client.post(url, data, follow=True)

    assert "was kept as a suggestion" in response.content.decode()
    assert Source.objects.get(pk=source.pk).title == "The published title"
    assert "The published title" in client.get(source.get_absolute_url()).content.decode()
    suggestion = Suggestion.objects.get()
    assert suggestion.changes["title"]["new"] == "A curator's unreviewed change"


def test_a_curator_edits_drafts_and_adds_claims_to_a_published_source(curator_client, curator):
    draft = factories.make_source(status=Status.DRAFT, created_by=curator)
    url = reverse("admin:findings_source_change", args=[draft.pk])
    data = change_form_data(curator_client.get(url))
    data["title"] = "Fixed title"
    assert curator_client.post(url, data).status_code == 302
    assert Source.objects.get(pk=draft.pk).title == "Fixed title"

    published = factories.make_source()
    abnormality = factories.make_abnormality()
    url = reverse("admin:findings_source_change", args=[published.pk])
    data = change_form_data(curator_client.get(url))
    data.update(
        {
            "findings-TOTAL_FORMS": "1",
            "findings-0-abnormality": str(abnormality.pk),
            "findings-0-statement": "A new claim from this source.",
            "findings-0-level": "C",
            "findings-0-direction": "supports",
            "findings-0-case_definition": "unspecified",
            # The structured study fields' selects, as the browser sends their defaults.
            "findings-0-blinding": "not_reported",
            "findings-0-comparator": "not_reported",
            "findings-0-outcome_type": "not_reported",
            "findings-0-effect_measure": "none",
            "findings-0-risk_of_bias": "not_assessed",
            "findings-0-selected_for_abnormality": "not_reported",
        }
    )
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    claim = Finding.objects.get(statement="A new claim from this source.")
    assert claim.status == Status.DRAFT
    assert claim.created_by == curator


def test_a_deleted_claim_restored_from_history_gets_its_contradictions_back(editor_client):
    published = factories.make_evidence(statement="The claim it contradicts.")
    claim = factories.make_evidence(status=Status.DRAFT, therapy=published.therapy)
    claim.contradicted_by.add(published)
    pk = claim.pk
    response = editor_client.post(
        reverse("admin:treatments_therapyevidence_delete", args=[pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not TherapyEvidence.objects.filter(pk=pk).exists()

    version = TherapyEvidence.history.filter(id=pk, history_type="-").get()
    url = reverse("admin:treatments_therapyevidence_simple_history", args=[pk, version.history_id])
    restored = editor_client.post(url, change_form_data(editor_client.get(url)))

    assert restored.status_code == 302
    again = TherapyEvidence.objects.get(pk=pk)
    assert again.status == Status.DRAFT
    assert list(again.contradicted_by.all()) == [published]


def test_an_editors_admin_edit_of_a_published_record_waits_for_another_editor(
    editor_client, client, api_client
):
    evidence = factories.make_evidence(statement="As published.", level="B")
    url = reverse("admin:treatments_therapyevidence_change", args=[evidence.pk])
    data = change_form_data(editor_client.get(url))
    data.update(statement="An unreviewed rewrite.", level="A")

    assert editor_client.post(url, data).status_code == 302

    def public() -> tuple[str, str, str]:
        page = client.get(evidence.therapy.get_absolute_url()).content.decode()
        api = api_client.get(f"/api/v1/evidence/{evidence.pk}/").json()
        return api["statement"], api["level"], "An unreviewed rewrite." in page

    assert public() == ("As published.", "B", False)
    suggestion = Suggestion.objects.for_record(evidence).get()

    other = factories.make_editor()
    other_client = Client()
    other_client.force_login(other)
    accept = reverse("admin:curation_suggestion_accept", args=[suggestion.pk])
    other_client.post(accept, {"note": "Checked against the paper."})

    assert public() == ("An unreviewed rewrite.", "A", True)
