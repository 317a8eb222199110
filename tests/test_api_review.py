"""The API's review actions and its lost-update protection (ETag / If-Match)."""

import pytest

from curation.models import Status
from curation.services import record_submit
from findings.models import Finding
from tests import factories
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db


def evidence_url(record, action: str = "") -> str:
    return f"/api/v1/evidence/{record.pk}/" + (f"{action}/" if action else "")


def finding_url(record, action: str = "") -> str:
    return f"/api/v1/findings/{record.pk}/" + (f"{action}/" if action else "")


def submitted_evidence(curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    record_submit(record=evidence, user=curator)
    return evidence


# --- review actions ---------------------------------------------------------------------


def test_a_curator_submits_a_draft_through_the_api(curator_api, curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)

    response = curator_api.post(evidence_url(evidence, "submit"), {}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.SUBMITTED
    assert response["ETag"].startswith('"v')
    evidence.refresh_from_db()
    assert evidence.status == Status.SUBMITTED
    assert evidence.history.first().history_user == curator


def test_an_editor_publishes_someone_elses_submission_and_history_names_them(
    editor_api, editor, curator
):
    evidence = submitted_evidence(curator)

    response = editor_api.post(
        evidence_url(evidence, "publish"), {"note": "Checked."}, format="json"
    )

    assert response.status_code == 200, response.json()
    evidence.refresh_from_db()
    assert evidence.status == Status.PUBLISHED
    assert evidence.reviewed_by == editor
    last = evidence.history.first()
    assert last.history_user == editor
    assert last.history_change_reason == "Published: Checked."


def test_the_api_refuses_an_editor_publishing_their_own_submission(editor_api, editor):
    evidence = submitted_evidence(editor)

    response = editor_api.post(evidence_url(evidence, "publish"), {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "nobody publishes their own work" in response.json()["detail"]
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED


def test_a_curator_may_not_publish_or_reject(curator_api):
    other = factories.make_curator()
    evidence = submitted_evidence(other)

    for action in ("publish", "reject"):
        response = curator_api.post(evidence_url(evidence, action), {"note": "x"}, format="json")
        assert response.status_code == 403, action
        assert "only editors" in response.json()["detail"]
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED


def test_reject_without_a_note_is_a_400_naming_the_note(editor_api, curator):
    evidence = submitted_evidence(curator)

    for body in ({}, {"note": ""}, {"note": "   "}):
        response = editor_api.post(evidence_url(evidence, "reject"), body, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid"
        assert "A note is required to reject" in response.json()["errors"]["note"][0]
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED


def test_reject_with_a_note_sends_it_back_to_the_curator(editor_api, curator):
    evidence = submitted_evidence(curator)

    response = editor_api.post(
        evidence_url(evidence, "reject"), {"note": "The quote is not verbatim."}, format="json"
    )

    assert response.status_code == 200
    evidence.refresh_from_db()
    assert evidence.status == Status.REJECTED
    assert evidence.review_note == "The quote is not verbatim."


def test_the_same_actions_work_for_findings(editor_api, curator_api, curator):
    finding = factories.make_finding(status=Status.DRAFT, created_by=curator)

    assert curator_api.post(finding_url(finding, "submit"), {}, format="json").status_code == 200
    assert editor_api.post(finding_url(finding, "reject"), {}, format="json").status_code == 400
    assert editor_api.post(finding_url(finding, "publish"), {}, format="json").status_code == 200
    assert Finding.objects.get(pk=finding.pk).status == Status.PUBLISHED
    retracted = editor_api.post(finding_url(finding, "retract"), {"note": "Wrong."}, format="json")
    assert retracted.status_code == 200
    assert Finding.objects.get(pk=finding.pk).status == Status.RETRACTED


def test_a_review_action_from_the_wrong_status_is_a_409(editor_api):
    evidence = factories.make_evidence(status=Status.DRAFT)

    response = editor_api.post(evidence_url(evidence, "publish"), {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_anonymous_clients_cannot_review(api_client, curator):
    evidence = submitted_evidence(curator)
    response = api_client.post(evidence_url(evidence, "publish"), {}, format="json")
    assert response.status_code == 401
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED


def test_a_user_without_a_role_gets_403(token_client_for, curator):
    evidence = submitted_evidence(curator)
    client = token_client_for(factories.make_user())
    response = client.post(evidence_url(evidence, "publish"), {}, format="json")
    assert response.status_code == 403
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED


# --- ETag and If-Match --------------------------------------------------------------------


def test_every_detail_response_carries_an_etag_with_the_records_version(api_client):
    evidence = factories.make_evidence()
    therapy = evidence.therapy
    for url, record in (
        (evidence_url(evidence), evidence),
        (f"/api/v1/therapies/{therapy.slug}/", therapy),
        (f"/api/v1/sources/{evidence.source.pk}/", evidence.source),
    ):
        response = api_client.get(url)
        assert response.status_code == 200, url
        record.refresh_from_db()
        assert response["ETag"].startswith(f'"v{record.version}-'), url


def test_the_etag_changes_when_the_record_is_saved(api_client):
    evidence = factories.make_evidence()
    before = api_client.get(evidence_url(evidence))["ETag"]
    evidence.curator_note = "A caveat."
    evidence.save()
    assert api_client.get(evidence_url(evidence))["ETag"] != before


def test_if_none_match_with_the_etag_gives_304(api_client):
    evidence = factories.make_evidence()
    etag = api_client.get(evidence_url(evidence))["ETag"]
    assert api_client.get(evidence_url(evidence), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_patch_with_the_current_etag_applies_and_answers_the_new_one(curator_api, curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    etag = curator_api.get(evidence_url(evidence))["ETag"]

    response = curator_api.patch(
        evidence_url(evidence), {"curator_note": "Mine."}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200, response.json()
    assert response["ETag"] != etag
    assert TherapyEvidence.objects.get(pk=evidence.pk).curator_note == "Mine."


def test_a_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    curator_api, curator, token_client_for
):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    stale = curator_api.get(evidence_url(evidence))["ETag"]
    # Someone else saves meanwhile, from the same version.
    someone = token_client_for(factories.make_curator())
    theirs = someone.patch(
        evidence_url(evidence), {"curator_note": "Theirs."}, format="json", HTTP_IF_MATCH=stale
    )
    assert theirs.status_code == 200

    mine = curator_api.patch(
        evidence_url(evidence), {"curator_note": "Mine."}, format="json", HTTP_IF_MATCH=stale
    )

    assert mine.status_code == 412
    assert mine.json()["code"] == "precondition_failed"
    assert TherapyEvidence.objects.get(pk=evidence.pk).curator_note == "Theirs."


@pytest.mark.parametrize("header", ['W/"v1-abc"', "garbage", '"v1-abc"'])
def test_a_weak_malformed_or_unknown_if_match_is_412(curator_api, curator, header):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator, curator_note="")
    response = curator_api.patch(
        evidence_url(evidence), {"curator_note": "x"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 412
    assert TherapyEvidence.objects.get(pk=evidence.pk).curator_note == ""


def test_if_match_star_or_no_header_applies(curator_api, curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    star = curator_api.patch(
        evidence_url(evidence), {"curator_note": "a"}, format="json", HTTP_IF_MATCH="*"
    )
    plain = curator_api.patch(evidence_url(evidence), {"curator_note": "b"}, format="json")
    assert (star.status_code, plain.status_code) == (200, 200)


def test_a_review_action_with_a_stale_if_match_is_412(editor_api, curator):
    evidence = submitted_evidence(curator)
    stale = editor_api.get(evidence_url(evidence))["ETag"]
    evidence.refresh_from_db()
    evidence.curator_note = "Changed after the editor read it."
    evidence.save()

    response = editor_api.post(
        evidence_url(evidence, "publish"), {}, format="json", HTTP_IF_MATCH=stale
    )

    assert response.status_code == 412
    assert TherapyEvidence.objects.get(pk=evidence.pk).status == Status.SUBMITTED


def test_put_is_not_a_way_around_if_match(curator_api, curator):
    evidence = factories.make_evidence(status=Status.DRAFT, created_by=curator)
    response = curator_api.put(evidence_url(evidence), {"curator_note": "x"}, format="json")
    assert response.status_code == 405


def test_the_schema_documents_the_actions_if_match_and_412(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for kind in ("evidence", "findings"):
        for action in ("submit", "publish", "reject", "retract"):
            operation = paths[f"/api/v1/{kind}/{{id}}/{action}/"]["post"]
            assert {"400", "403", "409", "412"} <= set(operation["responses"]), (kind, action)
        patch = paths[f"/api/v1/{kind}/{{id}}/"]["patch"]
        assert "412" in patch["responses"]
        assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
