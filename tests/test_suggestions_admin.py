"""Suggested revisions and the review queue in the admin: editors accept or reject
changes to published records (never their own), curators follow their own suggestions
and read the editor's note, and the index says what waits (curation/admin_review.py)."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from curation.admin_review import word_diff
from curation.models import Status, Suggestion, SuggestionState
from curation.roles import CURATORS, EDITORS
from curation.services import record_edit
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.models import TherapyEvidence

pytestmark = pytest.mark.django_db

# Every admin page starts with the same 3 queries: session, user, the user's
# permissions (own and group, one query: mecfs_kb/auth.py).
AUTH = 3

CHANGELIST = "/admin/curation/suggestion/"
QUEUE = "/admin/review/"


def suggest(record, user, reason: str = "", **fields) -> Suggestion:
    """A change to a published record, kept as a suggestion (an admin edit or a PATCH)."""
    return record_edit(record=record, fields=fields, user=user, reason=reason).suggestion


def page(suggestion, action: str = "") -> str:
    if action:
        return reverse(f"admin:curation_suggestion_{action}", args=[suggestion.pk])
    return reverse("admin:curation_suggestion_change", args=[suggestion.pk])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def evidence():
    return factories.make_evidence(statement="NK cell cytotoxicity rose in treated patients.")


# --- accepting -------------------------------------------------------------------------


def test_an_editors_suggestion_accepted_by_another_reaches_readers_and_history_names_both(
    editor_client, editor, client, api_client, evidence
):
    author = factories.make_editor(username="ada")
    suggestion = suggest(
        evidence,
        author,
        reason="The paper gives the numbers.",
        statement="NK cell cytotoxicity rose in 12 of 20 treated patients.",
    )
    shown = editor_client.get(page(suggestion)).content.decode()
    assert "<ins>12 of 20</ins>" in shown
    assert 'value="Accept"' in shown

    response = editor_client.post(page(suggestion, "accept"), {"note": "Checked."}, follow=True)

    assert any(message.startswith("Accepted") for message in said(response))
    suggestion.refresh_from_db()
    assert (suggestion.state, suggestion.reviewed_by, suggestion.review_note) == (
        SuggestionState.ACCEPTED,
        editor,
        "Checked.",
    )
    new = "NK cell cytotoxicity rose in 12 of 20 treated patients."
    assert new in client.get(evidence.therapy.get_absolute_url()).content.decode()
    assert api_client.get(f"/api/v1/evidence/{evidence.pk}/").json()["statement"] == new
    last = TherapyEvidence.objects.get(pk=evidence.pk).history.first()
    assert last.history_user == editor
    assert last.history_change_reason.startswith(f"Accepted suggestion #{suggestion.pk} by ada")


def test_the_admin_refuses_an_editor_accepting_their_own_suggestion(
    editor_client, editor, evidence
):
    suggestion = suggest(evidence, editor, statement="Mine.")
    shown = editor_client.get(page(suggestion)).content.decode()
    assert 'value="Accept"' not in shown
    assert "Another editor must review your suggestion" in shown

    response = editor_client.post(page(suggestion, "accept"), {}, follow=True)

    assert any("You cannot accept your own suggestion" in m for m in said(response))
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.PENDING
    assert TherapyEvidence.objects.get(pk=evidence.pk).statement == evidence.statement


def test_a_curator_cannot_accept_or_reject(curator_client, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Mine.")
    assert 'value="Accept"' not in curator_client.get(page(suggestion)).content.decode()

    for action in ("accept", "reject"):
        response = curator_client.post(page(suggestion, action), {"note": "x"}, follow=True)
        assert any("only editors" in m for m in said(response)), action
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.PENDING


def test_a_stale_suggestion_is_refused_and_marked_stale(editor_client, evidence):
    first = suggest(evidence, factories.make_curator(), statement="First.")
    second = suggest(evidence, factories.make_curator(), level="C")
    editor_client.post(page(first, "accept"), {})
    assert Suggestion.objects.get(pk=first.pk).state == SuggestionState.ACCEPTED
    # Accepting one marks the others on the record stale at once.
    assert Suggestion.objects.get(pk=second.pk).state == SuggestionState.STALE
    assert "Yes: the record was saved since" in editor_client.get(page(second)).content.decode()
    # One the record outran without being marked (an edit elsewhere) is marked on accept.
    Suggestion.objects.filter(pk=second.pk).update(state=SuggestionState.PENDING)
    listed = editor_client.get(CHANGELIST).content.decode()
    assert "Waiting, but stale: the record changed since" in listed

    response = editor_client.post(page(second, "accept"), {}, follow=True)

    assert any("changed since this suggestion was made" in m for m in said(response))
    assert Suggestion.objects.get(pk=second.pk).state == SuggestionState.STALE
    assert TherapyEvidence.objects.get(pk=evidence.pk).level == "B"


def test_a_change_saved_in_the_admin_links_to_its_suggestion(curator_client):
    source = factories.make_source(title="The published title")
    url = reverse("admin:findings_source_change", args=[source.pk])
    data = change_form_data(curator_client.get(url))
    data["title"] = "A better title"

    response = curator_client.post(url, data, follow=True)

    suggestion = Suggestion.objects.get()
    assert f'<a href="{page(suggestion)}">open the suggestion</a>' in response.content.decode()
    shown = curator_client.get(page(suggestion)).content.decode()
    assert "<del>The published</del> title" in shown
    assert "<ins>A better</ins> title" in shown


# --- rejecting and withdrawing -------------------------------------------------------------


def test_reject_needs_a_note_and_its_author_reads_it_in_the_list_and_the_page(
    editor_client, curator_client, curator, evidence
):
    suggestion = suggest(evidence, curator, statement="Changed.")

    response = editor_client.post(page(suggestion, "reject"), {"note": "  "}, follow=True)

    assert any("A note is required" in m for m in said(response))
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.PENDING

    response = editor_client.post(
        page(suggestion, "reject"), {"note": "The paper says otherwise."}, follow=True
    )

    assert any(message.startswith("Rejected") for message in said(response))
    listed = curator_client.get(CHANGELIST).content.decode()
    assert "The paper says otherwise." in listed
    assert "Rejected" in listed
    shown = curator_client.get(page(suggestion)).content.decode()
    assert "The paper says otherwise." in shown


def test_only_its_author_withdraws_a_suggestion(editor_client, curator_client, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Changed.")
    assert 'value="Withdraw"' not in editor_client.get(page(suggestion)).content.decode()

    response = editor_client.post(page(suggestion, "withdraw"), follow=True)
    assert any("Only its author" in m for m in said(response))
    assert 'value="Withdraw"' in curator_client.get(page(suggestion)).content.decode()

    response = curator_client.post(page(suggestion, "withdraw"), follow=True)

    assert "Withdrawn." in said(response)
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.WITHDRAWN


def test_the_review_buttons_take_post_only(editor_client, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Changed.")

    assert editor_client.get(page(suggestion, "accept")).status_code == 405
    assert editor_client.post(page(suggestion)).status_code == 405
    assert Suggestion.objects.get(pk=suggestion.pk).state == SuggestionState.PENDING


# --- who sees what ---------------------------------------------------------------------------


def test_curators_see_only_their_own_suggestions(curator_client, curator, evidence):
    mine = suggest(evidence, curator, statement="Mine.")
    theirs = suggest(evidence, factories.make_curator(), statement="Theirs.")

    response = curator_client.get(CHANGELIST)

    assert list(response.context["cl"].result_list) == [mine]
    other = curator_client.get(page(theirs))
    assert other.status_code == 302  # "does not exist": not theirs to read
    assert curator_client.post(page(theirs, "withdraw")).status_code == 302
    assert Suggestion.objects.get(pk=theirs.pk).state == SuggestionState.PENDING


def test_editors_see_every_suggestion(editor_client, curator, evidence):
    mine = suggest(evidence, curator, statement="One.")
    theirs = suggest(evidence, factories.make_curator(), statement="Two.")

    response = editor_client.get(CHANGELIST)

    assert set(response.context["cl"].result_list) == {mine, theirs}


def test_both_roles_read_suggestions_and_nobody_adds_changes_or_deletes_one(curator, editor):
    for role in (CURATORS, EDITORS):
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert "view_suggestion" in codenames
        assert not {"add_suggestion", "change_suggestion", "delete_suggestion"} & codenames
        # Suggestion is not a curated model: no review permission of its own.
        assert "review_suggestion" not in codenames
    suggestion = suggest(factories.make_evidence(), curator, statement="Changed.")
    client = client_for(editor)
    assert client.get("/admin/curation/suggestion/add/").status_code == 403
    assert client.get(page(suggestion, "delete")).status_code == 403


def test_a_user_without_a_role_cannot_open_suggestions(client, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Changed.")
    client.force_login(factories.make_user(is_staff=True))

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(QUEUE).status_code == 403
    assert client.get(page(suggestion)).status_code in (302, 403)


def test_the_list_filters_by_state_kind_and_author(editor_client, curator, evidence):
    on_evidence = suggest(evidence, curator, statement="Changed.")
    otto = factories.make_curator(username="otto")
    on_finding = suggest(factories.make_finding(), otto, statement="Changed too.")
    withdrawn = suggest(factories.make_evidence(), curator, statement="Withdrawn.")
    Suggestion.objects.filter(pk=withdrawn.pk).update(state=SuggestionState.WITHDRAWN)

    def listed(**query) -> set:
        response = editor_client.get(CHANGELIST, query)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed(state="pending") == {on_evidence, on_finding}
    assert listed(kind="findings.finding") == {on_finding}
    assert listed(kind="treatments.therapyevidence") == {on_evidence, withdrawn}
    assert listed(author__id__exact=otto.pk) == {on_finding}
    assert listed(q="Changed too") == set()  # search is by label and reason
    assert listed(q=on_finding.label[:20]) == {on_finding}


# --- the review queue and the index ------------------------------------------------------


def test_the_review_queue_lists_submitted_records_and_suggestions_with_filters(
    editor_client, curator
):
    otto = factories.make_curator(username="otto")
    submitted = factories.make_evidence(status=Status.SUBMITTED, submitted_by=curator)
    finding = factories.make_finding(status=Status.SUBMITTED, created_by=otto, submitted_by=otto)
    factories.make_evidence(status=Status.DRAFT, created_by=curator)  # not waiting
    published = factories.make_source()
    suggestion = suggest(published, otto, title="A better title")
    stale = suggest(factories.make_evidence(), curator, statement="Outrun.")
    TherapyEvidence.objects.filter(pk=stale.object_id).update(curator_note="Edited meanwhile.")
    TherapyEvidence.objects.get(pk=stale.object_id).save()

    def labels(**query) -> list[str]:
        response = editor_client.get(QUEUE, query)
        assert response.status_code == 200
        return [row.label for row in response.context["rows"]]

    everything = labels()
    assert set(everything) == {str(submitted), str(finding), suggestion.label, stale.label}
    assert set(labels(status="submitted")) == {str(submitted), str(finding)}
    assert set(labels(status="suggestions")) == {suggestion.label, stale.label}
    assert labels(status="stale") == [stale.label]
    assert set(labels(kind="findings.finding")) == {str(finding)}
    assert set(labels(kind="findings.source")) == {suggestion.label}
    assert set(labels(author="otto")) == {str(finding), suggestion.label}
    response = editor_client.get(QUEUE, {"kind": "nonsense"})
    assert response.context["rows"] == []
    assert "Please correct the filters" in response.content.decode()
    shown = editor_client.get(QUEUE).content.decode()
    assert reverse("admin:treatments_therapyevidence_change", args=[submitted.pk]) in shown
    assert page(suggestion) in shown
    assert "Stale: the record changed since." in shown


def test_curators_have_no_review_queue_or_counts(curator_client):
    assert curator_client.get(QUEUE).status_code == 403
    assert "review-waiting" not in curator_client.get("/admin/").content.decode()


@pytest.mark.parametrize("rows", [1, 50])
def test_the_index_counts_what_waits_in_a_fixed_number_of_queries(
    editor_client, curator, django_assert_num_queries, rows
):
    for n in range(rows):
        factories.make_evidence(status=Status.SUBMITTED, submitted_by=curator)
        factories.make_finding(status=Status.SUBMITTED, submitted_by=curator)
        suggest(factories.make_source(), curator, title=f"Better title {n}")

    # AUTH + one UNION ALL of a COUNT per curated model and one of pending suggestions,
    # + the recent actions in the sidebar.
    with django_assert_num_queries(AUTH + 2):
        response = editor_client.get("/admin/")

    html = response.content.decode()
    drafts = 2 * rows
    assert f"{drafts} drafts waiting for review" in html
    assert f"{rows} suggestion{'s' if rows > 1 else ''}</a>" in html


@pytest.mark.parametrize("rows", [1, 50])
def test_the_review_pages_take_a_fixed_number_of_queries(
    editor_client, curator, django_assert_num_queries, rows
):
    for n in range(rows):
        factories.make_evidence(status=Status.SUBMITTED, submitted_by=curator)
        factories.make_finding(status=Status.SUBMITTED, submitted_by=curator)
        factories.make_regulatory_status(status=Status.SUBMITTED, submitted_by=curator)
        factories.make_harm(status=Status.SUBMITTED, submitted_by=curator)
        last = suggest(factories.make_evidence(), curator, statement=f"Changed {n}.")

    # AUTH + COUNT(*) + the page of suggestions (content type, author, reviewer joined,
    # the record's version from a subquery) + the authors listed in the author filter.
    with django_assert_num_queries(AUTH + 3):
        assert editor_client.get(CHANGELIST).status_code == 200
    # AUTH + the suggestion as above; its diff names no link.
    with django_assert_num_queries(AUTH + 1):
        assert editor_client.get(page(last)).status_code == 200
    # AUTH + the submitted records of each of the 10 curated models (what names them
    # joined; harms, certainty overrides and glossary terms among them) + the pending
    # suggestions + the staff listed in the author filter.
    with django_assert_num_queries(AUTH + 10 + 1 + 1):
        response = editor_client.get(QUEUE)
    assert len(response.context["rows"]) == 5 * rows


def test_the_review_pages_have_no_inline_code(editor_client, curator, evidence):
    suggestion = suggest(evidence, curator, statement="Changed.")
    for url in ("/admin/", CHANGELIST, page(suggestion), QUEUE):
        html = editor_client.get(url).content.decode()
        assert "<script>" not in html, url
        assert 'style="' not in html, url
        assert "<style" not in html, url


# --- the difference, word by word -----------------------------------------------------------


def test_the_difference_marks_the_words_removed_and_added():
    old, new = word_diff(
        "NK cell cytotoxicity rose in treated patients.",
        "NK cell cytotoxicity fell in 12 of 20 treated patients.",
    )

    assert old == [
        ("same", "NK cell cytotoxicity "),
        ("del", "rose"),
        ("same", " in treated patients."),
    ]
    assert new == [
        ("same", "NK cell cytotoxicity "),
        ("ins", "fell"),
        ("same", " in "),
        ("ins", "12 of 20"),
        ("same", " treated patients."),
    ]
    assert word_diff("", "New.") == ([], [("ins", "New.")])
