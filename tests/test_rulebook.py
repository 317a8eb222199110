"""One rulebook: every (role, status, action) case, run through the admin and the API.

The admin and the API are thin callers of the same services (curation/services.py,
curation/revisions.py), so each case must end the same way through both doors:
``applied`` (the record changed), ``suggested`` (a published record is unchanged and
the change waits as a suggestion for another editor) or ``refused`` (nothing changed).

The table is run for therapy evidence and for harms (issue 13: "the same review
workflow as any claim"); both are claims with a ``statement``.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from curation.models import Status, Suggestion
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.models import Harm, TherapyEvidence

pytestmark = pytest.mark.django_db

D, S, P, R, X = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.PUBLISHED,
    Status.REJECTED,
    Status.RETRACTED,
)
ROLES = ("curator", "editor", "author")  # author: the editor who created the record

# action → status it leads to (edits are judged by the statement instead)
TARGET = {"submit": S, "reopen": D, "publish": P, "reject": R, "retract": X}


def expected(role: str, status: str, action: str) -> str:
    """The rulebook, written once, in words a curator would use."""
    if action == "edit":
        if status in (D, R):
            return "applied"
        return "suggested" if status == P else "refused"
    if action == "submit":
        return "applied" if status in (D, R) else "refused"
    if action == "reopen":
        return "applied" if status == R else "refused"
    if role == "curator":
        return "refused"  # publish, reject, retract are editors' work
    if action == "publish":
        # Nobody publishes what they wrote, editors included.
        return "applied" if status == S and role == "editor" else "refused"
    if action == "reject":
        return "applied" if status == S else "refused"
    if action == "retract":
        return "applied" if status == P else "refused"
    raise AssertionError(action)


CASES = [
    (role, status, action)
    for role in ROLES
    for status in (D, S, P, R, X)
    for action in ("edit", "submit", "reopen", "publish", "reject", "retract")
]


def _users():
    author = factories.make_editor()
    return {
        "curator": factories.make_curator(),
        "editor": factories.make_editor(),
        "author": author,
    }


# kind -> (factory, admin name of the model, API resource)
KINDS = {
    "evidence": (factories.make_evidence, "treatments_therapyevidence", "evidence"),
    "harm": (factories.make_harm, "treatments_harm", "harms"),
}


def _record(kind: str, author, status) -> TherapyEvidence | Harm:
    make = KINDS[kind][0]
    return make(status=status, created_by=author, statement="The statement as written.")


def _outcome(record: TherapyEvidence | Harm, status: str, action: str) -> str:
    fresh = type(record).objects.get(pk=record.pk)
    suggested = Suggestion.objects.for_record(record).exists()
    if action == "edit":
        if fresh.statement == "A changed statement.":
            assert not suggested
            return "applied"
        assert fresh.status == status
        return "suggested" if suggested else "refused"
    assert not suggested
    if fresh.status == TARGET[action] and status != TARGET[action]:
        return "applied"
    assert fresh.status == status
    return "refused"


def _through_admin(kind: str, user, record, action: str) -> None:
    admin_name = KINDS[kind][1]
    client = Client()
    client.force_login(user)
    if action == "edit":
        url = reverse(f"admin:{admin_name}_change", args=[record.pk])
        page = client.get(url)
        if page.status_code != 200:
            return
        data = change_form_data(page)
        data["statement"] = "A changed statement."
        client.post(url, data)
        return
    data = {"action": f"{action}_selected", ACTION_CHECKBOX_NAME: [str(record.pk)]}
    if action in ("reject", "retract"):
        data.update(apply="1", note="Says more than its source.")
    client.post(reverse(f"admin:{admin_name}_changelist"), data)


def _through_api(kind: str, user, record, action: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    url = f"/api/v1/{KINDS[kind][2]}/{record.pk}/"
    if action == "edit":
        client.patch(url, {"statement": "A changed statement."}, format="json")
        return
    client.post(f"{url}{action}/", {"note": "Says more than its source."}, format="json")


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("door", ["admin", "api"])
@pytest.mark.parametrize(("role", "status", "action"), CASES)
def test_every_rule_holds_alike_through_the_admin_and_the_api(kind, door, role, status, action):
    users = _users()
    record = _record(kind, users["author"], status)

    (_through_admin if door == "admin" else _through_api)(kind, users[role], record, action)

    assert _outcome(record, status, action) == expected(role, status, action)


def test_the_table_covers_every_status_and_both_outcomes_of_each_action():
    outcomes = {(action, expected(role, status, action)) for role, status, action in CASES}
    for action in TARGET:
        assert {(action, "applied"), (action, "refused")} <= outcomes
    assert ("edit", "suggested") in outcomes
