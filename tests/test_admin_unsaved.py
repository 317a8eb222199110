"""A review button pressed on a record's page with changes not saved yet is refused:
"Save your changes first", nothing done, nothing saved, the changes kept in the form.
And the "reason" box is shown only where it applies."""

from __future__ import annotations

import pytest
from django.urls import reverse

from curation.admin import DRAFT_NOTE
from curation.models import Status
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db


def page_url(record) -> str:
    return reverse("admin:treatments_therapyevidence_change", args=[record.pk])


def button_url(record, name: str) -> str:
    return reverse("admin:treatments_therapyevidence_transition", args=[record.pk, name])


def test_submitting_a_page_with_an_unsaved_change_is_refused_and_keeps_the_change(
    curator_client, curator
):
    record = factories.make_evidence(status=Status.DRAFT, created_by=curator, statement="Old.")
    data = change_form_data(curator_client.get(page_url(record)))
    data["statement"] = "My new statement, not saved yet."

    response = curator_client.post(button_url(record, "submit"), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Save your changes first" in html
    assert "(Statement)" in html
    # The form shows the change as typed, and saving it posts to the record's page.
    assert "My new statement, not saved yet." in html
    assert f'action="{page_url(record)}"' in html
    record.refresh_from_db()
    assert (record.status, record.statement) == (Status.DRAFT, "Old.")


def test_after_saving_the_same_button_works(curator_client, curator):
    record = factories.make_evidence(status=Status.DRAFT, created_by=curator, statement="Old.")
    data = change_form_data(curator_client.get(page_url(record)))
    data["statement"] = "New."
    assert curator_client.post(page_url(record), data).status_code == 302

    data = change_form_data(curator_client.get(page_url(record)))
    response = curator_client.post(button_url(record, "submit"), data, follow=True)

    assert "Save your changes first" not in response.content.decode()
    record.refresh_from_db()
    assert (record.status, record.statement) == (Status.SUBMITTED, "New.")


def test_an_editor_cannot_publish_a_page_they_changed_without_saving(editor_client, curator):
    record = factories.make_evidence(
        status=Status.SUBMITTED, created_by=curator, submitted_by=curator, level="B"
    )
    data = change_form_data(editor_client.get(page_url(record)))
    data["level"] = "E"

    response = editor_client.post(button_url(record, "publish"), data)

    assert "Save your changes first" in response.content.decode()
    assert TherapyEvidence.objects.get(pk=record.pk).status == Status.SUBMITTED


def test_text_boxes_sent_back_with_browser_line_endings_are_not_changes(curator_client, curator):
    record = factories.make_evidence(
        status=Status.DRAFT, created_by=curator, statement="First line.\nSecond line."
    )
    data = change_form_data(curator_client.get(page_url(record)))
    data["statement"] = "First line.\r\nSecond line.\r\n"

    curator_client.post(button_url(record, "submit"), data)

    assert TherapyEvidence.objects.get(pk=record.pk).status == Status.SUBMITTED


def test_a_typed_note_for_the_history_alone_is_not_an_unsaved_change(curator_client, curator):
    record = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    data = change_form_data(curator_client.get(page_url(record)))
    data["change_reason"] = "Checked against the paper."

    curator_client.post(button_url(record, "submit"), data)

    assert TherapyEvidence.objects.get(pk=record.pk).status == Status.SUBMITTED


def test_a_record_saved_by_someone_else_since_the_page_was_opened_is_not_submitted(
    curator_client, curator
):
    record = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    data = change_form_data(curator_client.get(page_url(record)))
    record.statement = "Someone else's change."
    record.save()

    response = curator_client.post(button_url(record, "submit"), data, follow=True)

    assert "changed by someone else" in response.content.decode()
    assert TherapyEvidence.objects.get(pk=record.pk).status == Status.DRAFT


def test_submitting_a_source_with_its_claims_refuses_an_unsaved_page_too(curator_client, curator):
    source = factories.make_source(status=Status.DRAFT, created_by=curator, title="Old title")
    url = reverse("admin:findings_source_change", args=[source.pk])
    data = change_form_data(curator_client.get(url))
    data["title"] = "New title"

    response = curator_client.post(
        reverse("admin:findings_source_submit_with_claims", args=[source.pk]), data
    )

    assert "Save your changes first" in response.content.decode()
    source.refresh_from_db()
    assert (source.status, source.title) == (Status.DRAFT, "Old title")


def test_a_new_draft_has_no_reason_box_and_a_draft_has_it_folded_away(curator_client, curator):
    add = curator_client.get(reverse("admin:treatments_therapyevidence_add"))
    assert 'name="change_reason"' not in add.content.decode()

    draft = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    page = curator_client.get(page_url(draft))
    [fieldset] = [f for f in page.context["adminform"] if "change_reason" in f.fields]
    assert (fieldset.name, fieldset.classes) == (DRAFT_NOTE, "collapse")
    assert page.context["adminform"].form.fields["change_reason"].label == "Why you changed it"
    html = page.content.decode()
    assert "<summary>" in html and DRAFT_NOTE in html


def test_a_published_record_asks_why_openly_and_one_under_review_does_not(curator_client):
    published = factories.make_evidence(status=Status.PUBLISHED)
    page = curator_client.get(page_url(published))
    [fieldset] = [f for f in page.context["adminform"] if "change_reason" in f.fields]
    assert (fieldset.name, fieldset.classes) == ("Your change", "")
    assert page.context["adminform"].form.fields["change_reason"].label == "Reason for this change"

    submitted = factories.make_evidence(status=Status.SUBMITTED)
    page = curator_client.get(page_url(submitted))
    assert 'name="change_reason"' not in page.content.decode()


def source_page(source) -> str:
    return reverse("admin:findings_source_change", args=[source.pk])


def test_a_page_with_saved_inline_claims_is_not_taken_for_unsaved_changes(curator_client, curator):
    # Each inline row posts the version it was loaded at; that is not a change.
    source = factories.make_source(status=Status.DRAFT, created_by=curator)
    claim = factories.make_finding(source=source, status=Status.DRAFT, created_by=curator)
    data = change_form_data(curator_client.get(source_page(source)))
    submit = reverse("admin:findings_source_submit_with_claims", args=[source.pk])

    response = curator_client.post(submit, data, follow=True)

    assert "Save your changes first" not in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == Status.SUBMITTED


def test_an_unsaved_change_in_an_inline_claim_is_refused_naming_the_list(curator_client, curator):
    source = factories.make_source(status=Status.DRAFT, created_by=curator)
    claim = factories.make_finding(source=source, status=Status.DRAFT, created_by=curator)
    data = change_form_data(curator_client.get(source_page(source)))
    data["findings-0-statement"] = "Changed in the row, not saved."
    submit = reverse("admin:findings_source_submit_with_claims", args=[source.pk])

    response = curator_client.post(submit, data)

    html = response.content.decode()
    assert "Save your changes first" in html
    assert "findings" in html
    claim.refresh_from_db()
    assert claim.status == Status.DRAFT
