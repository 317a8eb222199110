"""Accounts for curators and editors: ``manage.py create_curator`` makes one in its role
and prints a one-time link with which its owner chooses a password and logs in."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from curation.roles import CURATORS, EDITORS
from tests.factories import make_curator

NEW_PASSWORD = "a long new password of my own"


def create_curator(*args: str) -> str:
    out = StringIO()
    call_command("create_curator", *args, stdout=out)
    return out.getvalue()


def link_in(output: str, base_url: str = "http://127.0.0.1:8000") -> str:
    found = re.search(rf"^{re.escape(base_url)}(/admin/reset/\S+/)$", output, re.MULTILINE)
    assert found, output
    return found[1]


def groups(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.mark.django_db
def test_it_creates_a_staff_account_named_by_its_email_in_the_curators_group():
    output = create_curator("ana@example.org", "--role", "curator")

    user = get_user_model().objects.get(username="ana@example.org")
    assert user.email == "ana@example.org"
    assert user.is_staff and not user.is_superuser
    assert groups(user) == {CURATORS}
    assert not user.has_usable_password()
    assert "Created ana@example.org as curator." in output
    link_in(output)


@pytest.mark.django_db
def test_it_prints_the_link_on_the_host_given_by_base_url():
    output = create_curator("ed@example.org", "--role", "editor", "--base-url", "https://kb.org/")
    assert groups(get_user_model().objects.get(username="ed@example.org")) == {EDITORS}
    link_in(output, base_url="https://kb.org")


@pytest.mark.django_db
def test_role_on_an_existing_account_moves_it_to_the_other_group_only():
    create_curator("ana@example.org", "--role", "curator")
    output = create_curator("ana@example.org", "--role", "editor")

    user = get_user_model().objects.get(username="ana@example.org")
    assert groups(user) == {EDITORS}
    assert "ana@example.org is now editor (was curator)." in output
    assert get_user_model().objects.filter(username__iexact="ana@example.org").count() == 1


@pytest.mark.django_db
def test_an_account_that_has_chosen_its_password_gets_no_new_link():
    user = make_curator(username="bo@example.org")
    output = create_curator("bo@example.org", "--role", "editor")
    assert groups(user) == {EDITORS}
    assert "/admin/reset/" not in output


@pytest.mark.django_db
def test_it_refuses_what_is_not_an_email_address_and_creates_nothing():
    with pytest.raises(CommandError, match="valid email"):
        create_curator("not an address", "--role", "curator")
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_the_link_lets_its_owner_choose_a_password_once_and_log_in():
    path = link_in(create_curator("ana@example.org", "--role", "curator"))
    client = Client()

    # Django moves the token out of the URL into the session before showing the form.
    opened = client.get(path)
    assert opened.status_code == 302
    form = client.get(opened["Location"])
    assert form.status_code == 200 and form.context["validlink"]
    saved = client.post(
        opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert saved.status_code == 302
    assert client.get(saved["Location"]).status_code == 200

    login = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "ana@example.org", "password": NEW_PASSWORD},
    )
    assert login.status_code == 302 and login["Location"] == "/admin/"

    # The token hashed the old (unusable) password: used once, it opens nothing more.
    again = Client().get(path, follow=True)
    assert not again.context["validlink"]


@pytest.mark.django_db
def test_the_password_pages_name_the_site_and_lead_to_the_admins_login():
    path = link_in(create_curator("ana@example.org", "--role", "curator"))
    client = Client()
    form = client.get(client.get(path)["Location"])
    assert "ME/CFS Immune Knowledge Base — curators" in form.content.decode()
    assert "Django administration" not in form.content.decode()

    done = client.get("/admin/reset/done/")
    assert done.status_code == 200
    # Its "Log in" link opens the admin's login page, not Django's default /accounts/login/.
    assert done.context["login_url"] == "/admin/login/"
    assert client.get(done.context["login_url"]).status_code == 200
