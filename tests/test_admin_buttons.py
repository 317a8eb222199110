"""The review buttons on a record's page: each shown only to whom the services allow
it, each posting to its own admin URL that calls the same transition, with its
messages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from curation.models import Status
from tests import factories

pytestmark = pytest.mark.django_db

D, S, P, R, X = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.PUBLISHED,
    Status.REJECTED,
    Status.RETRACTED,
)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def buttons(client, record) -> set[str]:
    page = client.get(reverse("admin:treatments_therapyevidence_change", args=[record.pk]))
    assert page.status_code == 200
    return {b["name"] for b in page.context["transitions"]}


def press(client, record, name: str, note: str = ""):
    return client.post(
        reverse("admin:treatments_therapyevidence_transition", args=[record.pk, name]),
        {"transition_note": note},
        follow=True,
    )


@pytest.mark.parametrize(
    ("role", "status", "offered"),
    [
        ("curator", D, {"submit"}),
        ("curator", S, set()),
        ("curator", R, {"submit", "reopen"}),
        ("curator", P, set()),
        ("editor", S, {"publish", "reject"}),
        ("editor", P, {"retract"}),
        ("editor", X, set()),
        ("author", S, {"reject"}),  # nobody publishes their own work
    ],
)
def test_each_button_is_shown_only_to_whom_the_services_allow_it(role, status, offered):
    author = factories.make_editor()
    users = {"curator": factories.make_curator(), "editor": factories.make_editor()}
    users["author"] = author
    record = factories.make_evidence(status=status, created_by=author)
    assert buttons(client_for(users[role]), record) == offered


def test_the_buttons_post_to_the_transition_and_say_what_happened(curator, editor):
    record = factories.make_evidence(status=D, created_by=curator)
    done = press(client_for(curator), record, "submit")
    record.refresh_from_db()
    assert record.status == S
    assert f"Submitted for review: {record}." in done.content.decode()

    press(client_for(editor), record, "publish")
    record.refresh_from_db()
    assert record.status == P


def test_reject_and_retract_need_the_note_and_say_so(curator, editor):
    record = factories.make_evidence(status=S, created_by=curator)
    refused = press(client_for(editor), record, "reject")
    assert "A note is required to reject" in refused.content.decode()
    record.refresh_from_db()
    assert record.status == S

    press(client_for(editor), record, "reject", note="The quote is not in the paper.")
    record.refresh_from_db()
    assert (record.status, record.review_note) == (R, "The quote is not in the paper.")


def test_a_button_pressed_by_someone_not_allowed_is_refused_by_the_service(curator):
    record = factories.make_evidence(status=S, created_by=factories.make_curator())
    refused = press(client_for(curator), record, "publish")
    assert "only editors" in refused.content.decode()
    record.refresh_from_db()
    assert record.status == S


def test_the_transition_urls_take_post_only(editor):
    record = factories.make_evidence(status=S, created_by=factories.make_curator())
    url = reverse("admin:treatments_therapyevidence_transition", args=[record.pk, "publish"])
    assert client_for(editor).get(url).status_code == 405
    record.refresh_from_db()
    assert record.status == S
