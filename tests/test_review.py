"""The review workflow service (curation/services.py), on findings and therapy evidence."""

import pytest

from curation.models import Status
from curation.services import (
    ReviewNoteRequired,
    ReviewPermissionError,
    ReviewTransitionError,
    VersionConflict,
    record_publish,
    record_reject,
    record_retract,
    record_submit,
)
from findings.models import Finding
from tests import factories
from treatments.models import PairCertainty, Therapy, TherapyEvidence

pytestmark = pytest.mark.django_db


def draft_finding(author):
    return factories.make_finding(status=Status.DRAFT, created_by=author)


def test_a_curator_submits_a_draft_and_the_history_names_them(curator):
    finding = draft_finding(curator)

    record_submit(record=finding, user=curator)

    finding.refresh_from_db()
    assert finding.status == Status.SUBMITTED
    assert finding.submitted_by == curator
    last = finding.history.first()
    assert last.history_user == curator
    assert last.history_change_reason == "Submitted"


def test_an_editor_publishes_someone_elses_submission_with_who_when_and_note(curator, editor):
    finding = draft_finding(curator)
    record_submit(record=finding, user=curator)

    record_publish(record=finding, user=editor, note="Checked against the paper.")

    finding.refresh_from_db()
    assert finding.status == Status.PUBLISHED
    assert finding.reviewed_by == editor
    assert finding.reviewed_at is not None
    assert finding.review_note == "Checked against the paper."
    last = finding.history.first()
    assert last.history_user == editor
    assert last.history_change_reason == "Published: Checked against the paper."
    assert Finding.objects.published().filter(pk=finding.pk).exists()


def test_it_refuses_an_editor_publishing_their_own_submission(editor):
    finding = draft_finding(editor)
    record_submit(record=finding, user=editor)

    with pytest.raises(ReviewPermissionError, match="nobody publishes their own work"):
        record_publish(record=finding, user=editor)

    finding.refresh_from_db()
    assert finding.status == Status.SUBMITTED
    assert finding.reviewed_by is None


def test_it_refuses_an_editor_publishing_what_they_created_even_if_another_submitted(
    curator, editor
):
    finding = draft_finding(editor)
    record_submit(record=finding, user=curator)

    with pytest.raises(ReviewPermissionError, match="you created, edited or submitted it"):
        record_publish(record=finding, user=editor)
    assert Finding.objects.get(pk=finding.pk).status == Status.SUBMITTED


def test_it_refuses_a_curator_publishing(curator):
    other = factories.make_curator()
    finding = draft_finding(other)
    record_submit(record=finding, user=other)

    with pytest.raises(ReviewPermissionError, match="only editors"):
        record_publish(record=finding, user=curator)
    assert Finding.objects.get(pk=finding.pk).status == Status.SUBMITTED


def test_it_refuses_a_curator_rejecting_or_retracting(curator):
    evidence = factories.make_evidence(status=Status.SUBMITTED)
    with pytest.raises(ReviewPermissionError):
        record_reject(record=evidence, user=curator, note="No.")
    published = factories.make_evidence()
    with pytest.raises(ReviewPermissionError):
        record_retract(record=published, user=curator, note="No.")
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED
    assert TherapyEvidence.objects.get(pk=published.pk).status == Status.PUBLISHED


@pytest.mark.parametrize("note", ["", "   "])
def test_it_refuses_a_reject_without_a_note(curator, editor, note):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    record_submit(record=evidence, user=curator)

    with pytest.raises(ReviewNoteRequired, match="A note is required to reject"):
        record_reject(record=evidence, user=editor, note=note)

    evidence.refresh_from_db()
    assert evidence.status == Status.SUBMITTED
    assert evidence.review_note == ""


def test_an_editor_rejects_with_a_note_and_the_curator_can_resubmit(curator, editor):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    record_submit(record=evidence, user=curator)

    record_reject(record=evidence, user=editor, note="The quote is not in the source.")
    evidence.refresh_from_db()
    assert evidence.status == Status.REJECTED
    assert evidence.review_note == "The quote is not in the source."
    assert evidence.history.first().history_user == editor

    record_submit(record=evidence, user=curator)
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED


def test_it_refuses_a_retract_without_a_note(editor):
    evidence = factories.make_evidence()
    with pytest.raises(ReviewNoteRequired, match="A note is required to retract"):
        record_retract(record=evidence, user=editor, note="")
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.PUBLISHED


def test_a_retracted_record_is_kept_visible_but_out_of_published_lists(editor):
    retracted = factories.make_evidence()
    kept = factories.make_evidence()
    draft = factories.make_evidence(status=Status.DRAFT)

    record_retract(record=retracted, user=editor, note="The trial was never run.")

    retracted.refresh_from_db()
    assert retracted.status == Status.RETRACTED
    assert retracted.review_note == "The trial was never run."
    published = set(TherapyEvidence.objects.published())
    assert published == {kept}
    assert set(TherapyEvidence.objects.visible()) == {kept, retracted}
    assert draft not in TherapyEvidence.objects.visible()
    # Rankings (the matrix, best levels) are built from published evidence only.
    pairs = PairCertainty.objects.exclude(evidence_best_level="")
    assert {rating.therapy_id for rating in pairs} == {kept.therapy_id}


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.PUBLISHED, "submit"),
        (Status.SUBMITTED, "submit"),
        (Status.DRAFT, "publish"),
        (Status.REJECTED, "publish"),
        (Status.PUBLISHED, "reject"),
        (Status.DRAFT, "retract"),
        (Status.RETRACTED, "publish"),
    ],
)
def test_it_refuses_transitions_from_the_wrong_status(curator, editor, status, action):
    finding = factories.make_finding(status=status, created_by=curator, submitted_by=curator)
    services = {
        "submit": lambda: record_submit(record=finding, user=curator),
        "publish": lambda: record_publish(record=finding, user=editor),
        "reject": lambda: record_reject(record=finding, user=editor, note="n"),
        "retract": lambda: record_retract(record=finding, user=editor, note="n"),
    }
    with pytest.raises(ReviewTransitionError, match=r"only .* records can be"):
        services[action]()
    assert Finding.objects.get(pk=finding.pk).status == status


def test_it_refuses_a_transition_from_a_stale_version(curator, editor):
    finding = draft_finding(curator)
    record_submit(record=finding, user=curator)
    stale = finding.version
    finding.refresh_from_db()
    finding.statement = "Changed meanwhile."
    finding.save()

    with pytest.raises(VersionConflict):
        record_publish(record=finding, user=editor, expected_version=stale)
    assert Finding.objects.get(pk=finding.pk).status == Status.SUBMITTED


def test_a_transition_reads_the_status_from_the_database_not_the_callers_copy(curator, editor):
    finding = draft_finding(curator)
    record_submit(record=finding, user=curator)
    old_copy = Finding.objects.get(pk=finding.pk)
    record_reject(record=finding, user=editor, note="Wrong level.")

    # The caller's copy still says "submitted"; the database says "rejected".
    with pytest.raises(ReviewTransitionError):
        record_publish(record=old_copy, user=factories.make_editor())
    assert Finding.objects.get(pk=finding.pk).status == Status.REJECTED


def test_the_version_changes_on_every_save():
    therapy = factories.make_therapy()
    before = therapy.version
    therapy.summary = "Another summary."
    therapy.save()
    assert therapy.version != before
    assert Therapy.objects.get(pk=therapy.pk).version == therapy.version


def test_a_therapy_page_shows_retracted_evidence_as_retracted_with_the_reason(client, editor):
    therapy = factories.make_therapy(slug="low-dose-naltrexone")
    kept = factories.make_evidence(therapy=therapy, statement="A published claim.")
    retracted = factories.make_evidence(therapy=therapy, statement="A withdrawn claim.")
    factories.make_evidence(therapy=therapy, statement="A draft claim.", status=Status.DRAFT)
    record_retract(record=retracted, user=editor, note="The cited trial was never run.")

    response = client.get(therapy.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert kept.statement in html
    assert "Retracted evidence" in html
    assert "A withdrawn claim." in html
    assert "The cited trial was never run." in html
    assert "A draft claim." not in html
    # Not grouped or ranked with the published evidence.
    groups = response.context["groups"]
    assert all(retracted not in items for _, items in groups)
    assert [e.pk for e in response.context["retracted_evidence"]] == [retracted.pk]
