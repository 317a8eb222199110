"""No lost updates in the admin: a stale change form is refused and overwrites nothing."""

import pytest
from django.urls import reverse

from curation.models import Status
from curation.services import record_submit
from findings.models import Source
from tests import factories
from tests.admin_helpers import change_form_data
from treatments.models import Therapy

pytestmark = pytest.mark.django_db


def test_saving_a_form_someone_else_saved_meanwhile_is_refused(client, editor):
    therapy = factories.make_therapy(summary="The original summary.", status=Status.DRAFT)
    url = reverse("admin:treatments_therapy_change", args=[therapy.pk])
    client.force_login(editor)
    mine = change_form_data(client.get(url))

    # Another editor saves first, through their own form.
    other = factories.make_editor()
    client.force_login(other)
    theirs = change_form_data(client.get(url))
    theirs["summary"] = "Their summary."
    assert client.post(url, theirs).status_code == 302

    client.force_login(editor)
    mine["summary"] = "My summary."
    response = client.post(url, mine)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this therapy after you opened it" in html
    assert other.username in html
    assert Therapy.objects.get(pk=therapy.pk).summary == "Their summary."


def test_a_review_action_after_the_form_was_opened_is_a_conflict_too(
    editor_client, editor, curator
):
    source = factories.make_source(status=Status.DRAFT, created_by=curator)
    url = reverse("admin:findings_source_change", args=[source.pk])
    stale = change_form_data(editor_client.get(url))
    record_submit(record=source, user=curator)

    stale["title"] = "Overwritten title"
    response = editor_client.post(url, stale)

    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    source.refresh_from_db()
    assert source.status == Status.SUBMITTED
    assert source.title != "Overwritten title"


def test_a_fresh_form_saves(editor_client):
    source = factories.make_source(status=Status.DRAFT)
    url = reverse("admin:findings_source_change", args=[source.pk])
    data = change_form_data(editor_client.get(url))
    data["title"] = "A fresh title"

    assert editor_client.post(url, data).status_code == 302
    assert Source.objects.get(pk=source.pk).title == "A fresh title"


def test_a_form_without_its_version_is_refused(editor_client):
    source = factories.make_source(title="Kept title")
    url = reverse("admin:findings_source_change", args=[source.pk])
    data = change_form_data(editor_client.get(url))
    data.pop("loaded_version")
    data["title"] = "Blind overwrite"

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert Source.objects.get(pk=source.pk).title == "Kept title"


def test_saving_a_record_deleted_meanwhile_is_refused(editor_client):
    abnormality = factories.make_abnormality()
    url = reverse("admin:findings_abnormality_change", args=[abnormality.pk])
    data = change_form_data(editor_client.get(url))
    abnormality.delete()

    response = editor_client.post(url, data)

    # The admin answers for a missing object with a redirect and a message; either way
    # nothing is re-created by a stale form.
    assert response.status_code in (200, 302)
    assert not type(abnormality).objects.filter(pk=abnormality.pk).exists()
