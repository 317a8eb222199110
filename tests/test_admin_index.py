"""The admin's home page lists the curators' tasks, one line each: the model (or review
page), what it answers, and its Add link."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from curation.models import Status
from tests import factories

pytestmark = pytest.mark.django_db

AUTH = 3  # session, user, the user's permissions (own and group, one query)

CURATOR_LINES = {
    "My work: what of yours is a draft, waits for review, or was sent back?",
    "Suggestions: which changes to published records wait for an editor?",
    "Sources: which paper, trial record or web page says it?",
    "Findings: is this abnormality seen in ME/CFS?",
    "Therapy evidence: does this therapy act on it?",
    "Regulatory statuses: where can a patient get this therapy?",
    "Harms: what harms and risks do the sources report?",
    "Certainty ratings: how sure are we that this therapy helps, and why?",
    "Certainty overrides: should a computed certainty rating be overridden, and why?",
    "Abnormalities: what in the immune system is abnormal in ME/CFS?",
    "Therapies: what is proposed against it, and how far has it come?",
    "Lab tests: how is this abnormality measured?",
    "Glossary terms: what does this word or measure mean?",
}


def lines(html: str) -> dict[str, list[str]]:
    """``{group title: [line text, …]}`` as the index shows them."""
    groups = {}
    for title, body in re.findall(
        r'<div class="module task-group"[^>]*>.*?<span class="section">(.*?)</span>(.*?)</table>',
        html,
        flags=re.S,
    ):
        rows = re.findall(r'<th scope="row"[^>]*>(.*?)</th>', body, flags=re.S)
        groups[unescape(title)] = [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()).replace(" :", ":")
            for row in rows
        ]
    return groups


def test_a_curator_sees_each_task_on_one_line_grouped_by_what_they_are_doing(
    curator_client, django_assert_num_queries
):
    # AUTH + the recent actions in the sidebar: the lines cost no query.
    with django_assert_num_queries(AUTH + 1):
        response = curator_client.get("/admin/")

    groups = lines(response.content.decode())
    assert list(groups) == [
        "Your work",
        "Evidence: sources and the claims they make",
        "What the evidence is about",
    ]
    assert {line for group in groups.values() for line in group} == CURATOR_LINES
    assert groups["Evidence: sources and the claims they make"] == [
        "Sources: which paper, trial record or web page says it?",
        "Findings: is this abnormality seen in ME/CFS?",
        "Therapy evidence: does this therapy act on it?",
        "Regulatory statuses: where can a patient get this therapy?",
        "Harms: what harms and risks do the sources report?",
        "Certainty ratings: how sure are we that this therapy helps, and why?",
        "Certainty overrides: should a computed certainty rating be overridden, and why?",
    ]


def test_each_line_links_to_its_list_and_offers_add_where_the_user_may_add(curator_client):
    html = curator_client.get("/admin/").content.decode()

    assert '<a href="/admin/findings/finding/">Findings</a>' in html
    assert 'href="/admin/findings/finding/add/" class="addlink"' in html
    # Suggestions come from edits: nobody adds one from here.
    assert "/admin/curation/suggestion/add/" not in html
    assert '<a href="/admin/my-work/">My work</a>' in html


def test_an_editor_also_sees_the_review_queue_with_what_waits(editor_client, curator):
    factories.make_evidence(status=Status.SUBMITTED, submitted_by=curator)

    html = editor_client.get("/admin/").content.decode()

    [work] = [group for title, group in lines(html).items() if title == "Your work"]
    assert work[0].startswith("My work:")
    assert work[1] == (
        "Review queue: what waits for an editor to publish or reject? "
        "1 draft waiting for review · 0 suggestions"
    )
    assert 'id="review-waiting"' in html


def test_a_curator_has_no_review_queue_line(curator_client):
    html = curator_client.get("/admin/").content.decode()
    assert "Review queue" not in html
    assert "review-waiting" not in html


def test_models_that_join_no_task_are_listed_after_by_app():
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-x-123456")
    client = Client()
    client.force_login(admin)

    html = client.get("/admin/").content.decode()

    assert set(lines(html)["Evidence: sources and the claims they make"]) >= {
        "Findings: is this abnormality seen in ME/CFS?"
    }
    # Accounts are not a curator's task: Django's own list, after the tasks.
    tasks_end = html.rindex('class="module task-group"')
    assert html.index('href="/admin/auth/user/"') > tasks_end
    assert html.count('href="/admin/findings/finding/"') == 1  # listed once, by task


def test_the_admin_has_no_sidebar_of_every_model_so_lists_keep_their_room(curator_client):
    html = curator_client.get("/admin/findings/finding/").content.decode()
    assert 'id="nav-sidebar"' not in html
