"""Suggested revisions in the REST API (/api/v1/suggestions/): curators propose changes to
published records, editors accept or reject them (never their own), authors read the
editor's note; the same service and rules as the admin (curation/revisions.py)."""

import pytest
from django.contrib.auth.models import Permission

from curation.models import DataChange, Status, Suggestion, SuggestionState
from curation.revisions import suggestion_accept
from curation.services import record_edit
from tests import factories
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db

URL = "/api/v1/suggestions/"


def suggest(record, user, reason: str = "", **fields) -> Suggestion:
    """A change to a published record, kept as a suggestion (as a PATCH or the admin makes)."""
    return record_edit(record=record, fields=fields, user=user, reason=reason).suggestion


def detail(suggestion, action: str = "") -> str:
    return f"{URL}{suggestion.pk}/" + (f"{action}/" if action else "")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    return body


@pytest.fixture
def evidence():
    return factories.make_evidence(statement="NK cell cytotoxicity rose.")


@pytest.fixture
def other_editor_api(token_client_for):
    return token_client_for(factories.make_editor())


# --- who may read what ----------------------------------------------------------------


def test_anonymous_clients_are_refused_with_401(api_client, evidence, curator):
    suggestion = suggest(evidence, curator, statement="Changed.")

    for response in (
        api_client.get(URL),
        api_client.get(detail(suggestion)),
        api_client.post(URL, {}, format="json"),
        api_client.post(detail(suggestion, "accept"), {}, format="json"),
    ):
        assert_error(response, 401, "not_authenticated")


def test_a_user_without_a_role_is_refused_with_403(token_client_for):
    client = token_client_for(factories.make_user())

    assert_error(client.get(URL), 403, "permission_denied")
    assert_error(client.post(URL, {}, format="json"), 403, "permission_denied")


def test_a_curator_lists_only_their_own_suggestions_and_an_editor_all(
    curator_api, editor_api, curator, evidence
):
    mine = suggest(evidence, curator, statement="Mine.")
    theirs = suggest(evidence, factories.make_curator(), statement="Theirs.")

    listed = curator_api.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert_error(curator_api.get(detail(theirs)), 404, "not_found")
    everything = editor_api.get(URL).json()
    assert {row["id"] for row in everything["results"]} == {mine.pk, theirs.pk}


def test_the_list_filters_by_state_kind_author_and_record(editor_api, curator, evidence):
    finding = factories.make_finding()
    other = factories.make_curator(username="otto")
    on_evidence = suggest(evidence, curator, statement="Changed.")
    on_finding = suggest(finding, other, statement="Changed too.")
    withdrawn = suggest(factories.make_evidence(), curator, statement="Withdrawn.")
    Suggestion.objects.filter(pk=withdrawn.pk).update(state=SuggestionState.WITHDRAWN)

    def ids(**query) -> set[int]:
        response = editor_api.get(URL, query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(state="pending") == {on_evidence.pk, on_finding.pk}
    assert ids(state="withdrawn") == {withdrawn.pk}
    assert ids(kind="finding") == {on_finding.pk}
    assert ids(kind="evidence") == {on_evidence.pk, withdrawn.pk}
    assert ids(author="otto") == {on_finding.pk}
    assert ids(kind="evidence", record=evidence.pk) == {on_evidence.pk}


def test_an_unknown_filter_value_is_a_400_naming_it(editor_api):
    for query, name in (({"state": "lost"}, "state"), ({"kind": "therapyevidence"}, "kind")):
        body = assert_error(editor_api.get(URL, query), 400, "invalid")
        assert name in body["errors"]


def test_a_suggestion_reads_with_its_diff_and_whether_it_is_stale(curator_api, curator, evidence):
    better = factories.make_abnormality(name="Low NK cell cytotoxicity")
    suggestion = suggest(
        evidence, curator, reason="Wrong abnormality", abnormality=better, statement="Fixed."
    )

    response = curator_api.get(detail(suggestion))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "evidence"
    assert body["record"] == evidence.pk
    assert body["fields"] == ["abnormality", "statement"]
    assert body["reason"] == "Wrong abnormality"
    assert body["author"] == curator.username
    assert (body["state"], body["stale"]) == ("pending", False)
    assert body["changes"]["abnormality"] == {"old": evidence.abnormality_id, "new": better.pk}
    rows = {row["field"]: row for row in body["diff"]}
    assert rows["abnormality"]["old"] == evidence.abnormality.name
    assert rows["abnormality"]["new"] == "Low NK cell cytotoxicity"
    assert rows["statement"] == {
        "field": "statement",
        "label": "statement",
        "old": "NK cell cytotoxicity rose.",
        "new": "Fixed.",
    }
    # The record changes (an editor corrects it directly): the suggestion is now stale.
    evidence.curator_note = "Edited meanwhile."
    evidence.save()
    assert curator_api.get(detail(suggestion)).json()["stale"] is True


# --- creating one -------------------------------------------------------------------------


def test_a_curator_token_suggests_a_change_to_a_published_record(curator_api, curator, evidence):
    better = factories.make_abnormality(slug="low-nk-cell-cytotoxicity")

    response = curator_api.post(
        URL,
        {
            "kind": "evidence",
            "record": evidence.pk,
            "changes": {"abnormality": "low-nk-cell-cytotoxicity", "level": "C"},
            "reason": "The study measured cytotoxicity.",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{URL}{body['id']}/"
    assert body["fields"] == ["abnormality", "level"]
    assert body["changes"]["abnormality"]["new"] == better.pk
    assert body["author"] == curator.username
    suggestion = Suggestion.objects.get(pk=body["id"])
    assert (suggestion.state, suggestion.reason) == ("pending", "The study measured cytotoxicity.")
    # Readers still see the published version.
    unchanged = TherapyEvidence.objects.get(pk=evidence.pk)
    assert (unchanged.abnormality_id, unchanged.level) == (evidence.abnormality_id, "B")


def test_a_suggestion_for_a_draft_is_a_409_telling_the_client_to_patch_it(curator_api, curator):
    draft = factories.make_finding(status=Status.DRAFT, created_by=curator)

    response = curator_api.post(
        URL,
        {"kind": "finding", "record": draft.pk, "changes": {"statement": "Better."}},
        format="json",
    )

    body = assert_error(response, 409, "not_published")
    assert f"PATCH /api/v1/findings/{draft.pk}/" in body["detail"]
    assert not Suggestion.objects.exists()


def test_a_suggestion_for_a_submitted_or_retracted_record_is_a_409(curator_api):
    for status in (Status.SUBMITTED, Status.RETRACTED):
        record = factories.make_evidence(status=status)
        response = curator_api.post(
            URL,
            {"kind": "evidence", "record": record.pk, "changes": {"statement": "x"}},
            format="json",
        )
        assert_error(response, 409, "not_editable")
    assert not Suggestion.objects.exists()


def test_bad_values_fields_that_cannot_change_and_no_change_are_400s(curator_api, evidence):
    def post(changes: dict):
        return curator_api.post(
            URL, {"kind": "evidence", "record": evidence.pk, "changes": changes}, format="json"
        )

    body = assert_error(post({"level": "Z", "abnormality": "no-such-slug"}), 400, "invalid")
    assert {"changes.level", "changes.abnormality"} <= set(body["errors"])
    body = assert_error(post({"status": "draft"}), 400, "invalid")
    assert "changes.status" in body["errors"]
    body = assert_error(post({"citation": {}, "no_such_field": 1}), 400, "invalid")
    assert {"changes.citation", "changes.no_such_field"} <= set(body["errors"])
    body = assert_error(post({"statement": evidence.statement}), 400, "invalid")
    assert "Nothing would change" in body["errors"]["changes"][0]
    assert not Suggestion.objects.exists()


def test_an_unknown_kind_or_record_is_a_400_naming_it(curator_api, evidence):
    therapy = evidence.therapy
    for body, name in (
        ({"kind": "therapy", "record": therapy.pk, "changes": {"name": "x"}}, "kind"),
        ({"kind": "nonsense", "record": evidence.pk, "changes": {"statement": "x"}}, "kind"),
        (
            {"kind": "evidence", "record": evidence.pk + 1000, "changes": {"statement": "x"}},
            "record",
        ),
        ({"kind": "evidence", "record": evidence.pk, "changes": {}}, "changes"),
    ):
        errors = assert_error(curator_api.post(URL, body, format="json"), 400, "invalid")["errors"]
        assert name in errors, body


def test_reading_suggestions_alone_does_not_let_a_user_suggest(token_client_for, evidence):
    user = factories.make_user()
    user.user_permissions.add(Permission.objects.get(codename="view_suggestion"))
    client = token_client_for(user)

    response = client.post(
        URL,
        {"kind": "evidence", "record": evidence.pk, "changes": {"statement": "x"}},
        format="json",
    )

    body = assert_error(response, 403, "permission_denied")
    assert "only curators and editors" in body["detail"]


# --- reviewing one --------------------------------------------------------------------------


def test_an_editors_suggestion_accepted_by_another_reaches_readers_and_history_names_both(
    editor_api, editor, other_editor_api, api_client, client, evidence
):
    created = editor_api.post(
        URL,
        {
            "kind": "evidence",
            "record": evidence.pk,
            "changes": {"statement": "NK cell cytotoxicity rose in 12 of 20 patients."},
            "reason": "The paper gives the numbers.",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    suggestion_id = created.json()["id"]

    response = other_editor_api.post(
        f"{URL}{suggestion_id}/accept/", {"note": "Checked against the paper."}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["review_note"]) == ("accepted", "Checked against the paper.")
    reviewer = body["reviewed_by"]
    assert reviewer not in ("", None, editor.username)
    public = api_client.get(f"/api/v1/evidence/{evidence.pk}/").json()
    assert public["statement"] == "NK cell cytotoxicity rose in 12 of 20 patients."
    page = client.get(evidence.therapy.get_absolute_url())
    assert "NK cell cytotoxicity rose in 12 of 20 patients." in page.content.decode()
    last = TherapyEvidence.objects.get(pk=evidence.pk).history.first()
    assert last.history_user.username == reviewer
    assert f"Accepted suggestion #{suggestion_id} by {editor.username}" in (
        last.history_change_reason
    )
    change = DataChange.objects.get(object_id=evidence.pk, action="revised")
    assert change.fields == ["statement"]


def test_an_editor_cannot_accept_their_own_suggestion(editor_api, editor, evidence):
    suggestion = suggest(evidence, editor, statement="Mine.")

    body = assert_error(
        editor_api.post(detail(suggestion, "accept"), {}, format="json"), 403, "permission_denied"
    )

    assert "You cannot accept your own suggestion" in body["detail"]
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.PENDING


def test_a_curator_cannot_accept_or_reject(curator_api, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Mine.")

    for action in ("accept", "reject"):
        response = curator_api.post(detail(suggestion, action), {"note": "x"}, format="json")
        body = assert_error(response, 403, "permission_denied")
        assert "only editors" in body["detail"]
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.PENDING
    assert TherapyEvidence.objects.get(pk=evidence.pk).statement == evidence.statement


def test_reject_needs_a_note_and_its_author_reads_it(editor_api, curator_api, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Changed.")

    for body in ({}, {"note": ""}, {"note": "   "}):
        refused = assert_error(
            editor_api.post(detail(suggestion, "reject"), body, format="json"), 400, "invalid"
        )
        assert "A note is required" in refused["errors"]["note"][0]
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.PENDING

    response = editor_api.post(
        detail(suggestion, "reject"), {"note": "The paper says otherwise."}, format="json"
    )

    assert response.status_code == 200, response.content
    seen = curator_api.get(detail(suggestion)).json()
    assert (seen["state"], seen["review_note"]) == ("rejected", "The paper says otherwise.")
    assert curator_api.get(URL, {"state": "rejected"}).json()["results"][0]["review_note"] == (
        "The paper says otherwise."
    )


def test_a_stale_suggestion_is_refused_with_409_and_marked_stale(editor_api, evidence):
    first = suggest(evidence, factories.make_curator(), statement="First.")
    second = suggest(evidence, factories.make_curator(), level="C")
    suggestion_accept(suggestion=first, user=factories.make_editor())
    # Accepting one marks the others stale at once; one the record outran without
    # being marked (an edit elsewhere) is found stale when accepted.
    Suggestion.objects.filter(pk=second.pk).update(state=SuggestionState.PENDING)
    assert editor_api.get(detail(second)).json()["stale"] is True

    body = assert_error(editor_api.post(detail(second, "accept"), {}, format="json"), 409, "stale")

    assert "changed since this suggestion was made" in body["detail"]
    assert Suggestion.objects.get(pk=second.pk).state == SuggestionState.STALE
    assert TherapyEvidence.objects.get(pk=evidence.pk).level == "B"


def test_a_suggestion_no_longer_waiting_is_a_409(editor_api, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Changed.")
    Suggestion.objects.filter(pk=suggestion.pk).update(state=SuggestionState.WITHDRAWN)

    body = assert_error(
        editor_api.post(detail(suggestion, "accept"), {}, format="json"), 409, "invalid_transition"
    )

    assert "withdrawn" in body["detail"]


def test_only_its_author_withdraws_a_suggestion(curator_api, curator, editor_api, evidence):
    suggestion = suggest(evidence, curator, statement="Changed.")

    body = assert_error(
        editor_api.post(detail(suggestion, "withdraw"), {}, format="json"), 403, "permission_denied"
    )
    assert "Only its author" in body["detail"]

    response = curator_api.post(detail(suggestion, "withdraw"), {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "withdrawn"


# --- a PATCH of a published record --------------------------------------------------------


def test_a_patch_of_a_published_record_answers_202_with_the_suggestion_and_its_location(
    curator_api, curator, evidence
):
    response = curator_api.patch(
        f"/api/v1/evidence/{evidence.pk}/",
        {"statement": "Changed.", "reason": "Typo"},
        format="json",
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"{URL}{body['id']}/"
    assert "ETag" not in response or not response["ETag"].startswith('"v')
    assert curator_api.get(response["Location"]).json() == body
    assert (body["kind"], body["record"], body["fields"]) == (
        "evidence",
        evidence.pk,
        ["statement"],
    )
    assert (body["reason"], body["state"], body["stale"]) == ("Typo", "pending", False)
    assert body["diff"][0]["new"] == "Changed."


# --- queries --------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_and_a_suggestion_take_a_fixed_number_of_queries(
    editor_api, django_assert_num_queries, rows
):
    author = factories.make_curator()
    suggestions = [
        suggest(factories.make_evidence(), author, statement=f"Changed {n}.") for n in range(rows)
    ]

    # The token with its user and the user's permissions (own and group); COUNT(*);
    # the page of suggestions with content type, author and reviewer joined and each
    # record's version from a subquery; the data version (`data_version`, X-Data-Version).
    with django_assert_num_queries(4):
        response = editor_api.get(URL)
    assert len(response.json()["results"]) == rows
    # The token with the permissions, the suggestion as above, the data version
    # (X-Data-Version); the diff names no link.
    with django_assert_num_queries(3):
        response = editor_api.get(detail(suggestions[0]))
    assert response.status_code == 200
