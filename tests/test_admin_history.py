"""A record's history in the admin: the real reason for every change, in full, and a
revert named as one, with the date of the version it went back to."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from curation.models import Status, Suggestion
from curation.services import record_create, record_edit, record_reject, record_submit
from findings.models import Abnormality
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.models import Therapy

pytestmark = pytest.mark.django_db

LONG_NOTE = (
    "The quote on page 4 is not in the paper: the sentence is the review's summary of "
    "the trial, not the trial's own words. The level should be E, not B, because the "
    "source is a narrative review. Please check the participants too."
)


def history_page(client, record) -> str:
    opts = record._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[record.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def reasons_shown(client, record) -> list[str]:
    """The "What happened" cells of the history page, newest first, as text."""
    import re
    from html import unescape

    page = history_page(client, record)
    cells = re.findall(r'<td class="history-reason">(.*?)</td>', page, flags=re.S)
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def new_draft(curator, **fields) -> Abnormality:
    values = {
        "name": "Low widget count",
        "slug": "low-widget-count",
        "category": "cellular",
        "component": "Widgets",
        "change": "decreased",
        "summary": "First summary.",
        **fields,
    }
    return record_create(model=Abnormality, fields=values, user=curator)


def test_a_long_review_note_is_kept_and_shown_in_full(editor_client, curator, editor):
    draft = new_draft(curator)
    record_submit(record=draft, user=curator)
    record_reject(record=draft, user=editor, note=LONG_NOTE)

    assert draft.history.first().history_change_reason == f"Rejected: {LONG_NOTE}"
    assert reasons_shown(editor_client, draft)[0] == f"Rejected: {LONG_NOTE}"


def test_a_change_saved_without_a_reason_says_so_instead_of_none(editor_client):
    therapy = factories.make_therapy()  # saved directly, as a data load does
    therapy.summary = "Changed by a script."
    therapy.save()

    shown = reasons_shown(editor_client, therapy)

    assert shown == ["Changed (no reason given)", "Created (no reason given)"]
    assert "None" not in history_page(editor_client, therapy)


def test_an_edit_with_a_reason_shows_the_action_and_the_reason(editor_client, curator):
    draft = new_draft(curator)
    record_edit(
        record=draft, fields={"summary": "Better."}, user=curator, reason="Typo in the summary."
    )

    assert reasons_shown(editor_client, draft)[:2] == [
        "Edited: Typo in the summary.",
        "Created",
    ]


def test_a_revert_is_named_with_the_date_of_the_version_and_who_made_it(
    curator_client, curator, editor_client
):
    draft = new_draft(curator)
    first = draft.history.get()
    record_edit(record=draft, fields={"summary": "A worse summary."}, user=curator)

    url = reverse("admin:findings_abnormality_simple_history", args=[draft.pk, first.history_id])
    data = change_form_data(curator_client.get(url))
    assert curator_client.post(url, data).status_code == 302

    draft.refresh_from_db()
    assert draft.summary == "First summary."
    when = first.history_date.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    expected = f"Reverted to the version of {when} UTC"
    last = draft.history.first()
    assert (last.history_change_reason, last.history_user) == (expected, curator)
    assert reasons_shown(editor_client, draft)[0] == expected
    # The version's date is written as the history page shows dates, so it can be found.
    assert f">{when}</a></td>" in history_page(editor_client, draft)
    # Django's own log (the index's "Recent actions") says the same, not "Changed".
    log = LogEntry.objects.filter(object_id=str(draft.pk)).latest("action_time")
    assert log.get_change_message() == f"{expected}."


def test_a_revert_with_a_reason_keeps_both(curator_client, curator):
    draft = new_draft(curator)
    first = draft.history.get()
    record_edit(record=draft, fields={"summary": "A worse summary."}, user=curator)

    url = reverse("admin:findings_abnormality_simple_history", args=[draft.pk, first.history_id])
    data = change_form_data(curator_client.get(url))
    data["change_reason"] = "The new summary lost the numbers."
    assert curator_client.post(url, data).status_code == 302

    reason = Abnormality.objects.get(pk=draft.pk).history.first().history_change_reason
    assert reason.startswith("Reverted to the version of ")
    assert reason.endswith(" UTC: The new summary lost the numbers.")


def test_reverting_a_published_record_suggests_the_revert_and_says_so(curator_client):
    therapy = factories.make_therapy(summary="First summary.", status=Status.PUBLISHED)
    first = therapy.history.get()
    therapy.summary = "Second summary."
    therapy.save()

    url = reverse("admin:treatments_therapy_simple_history", args=[therapy.pk, first.history_id])
    data = change_form_data(curator_client.get(url))
    assert curator_client.post(url, data).status_code == 302

    assert Therapy.objects.get(pk=therapy.pk).summary == "Second summary."
    suggestion = Suggestion.objects.get()
    assert suggestion.reason.startswith("Reverted to the version of ")
    assert suggestion.changes["summary"]["new"] == "First summary."
    log = LogEntry.objects.filter(object_id=str(therapy.pk)).latest("action_time")
    assert log.get_change_message().endswith("kept as a suggestion for review.")
