"""Security settings: deploy check, headers, Content-Security-Policy, login lockout."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests import factories

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def production_env(**extra) -> dict[str, str]:
    unwanted = ("DEBUG", "HTTPS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="kb.example.org",
        **extra,
    )
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_when_https_is_switched_off():
    # Proves the check above is not vacuous: the same check flags a weaker setup.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(HTTPS="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


def test_the_app_refuses_to_start_without_a_secret_key_in_production():
    env = production_env()
    env.pop("SECRET_KEY")
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'mecfs_kb.settings'; "
        "django.setup()",
        env,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


PROBE = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "mecfs_kb.settings"
import django
django.setup()
from django.conf import settings
# No collectstatic in a test run: plain static storage (headers do not depend on it).
STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"
settings.STORAGES["staticfiles"]["BACKEND"] = STATIC
from django.test import Client
client = Client(HTTP_HOST="kb.example.org")
plain = client.get("/admin/login/")
print("PLAIN", plain.status_code, plain.headers.get("Location", ""))
page = client.get("/admin/login/", secure=True)
print("STATUS", page.status_code)
for name in ("Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy",
             "X-Frame-Options", "Content-Security-Policy", "Cross-Origin-Opener-Policy"):
    print("HEADER", name, "=", page.headers.get(name, ""))
print("CSRF_SECURE", bool(page.cookies["csrftoken"]["secure"]))
"""


def test_production_responses_carry_hsts_nosniff_referrer_policy_and_secure_cookies():
    result = run_python(PROBE, production_env())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "PLAIN 301 https://kb.example.org/admin/login/" in out
    assert "STATUS 200" in out
    assert "HEADER Strict-Transport-Security = max-age=31536000; includeSubDomains; preload" in out
    assert "HEADER X-Content-Type-Options = nosniff" in out
    assert "HEADER Referrer-Policy = same-origin" in out
    assert "HEADER X-Frame-Options = DENY" in out
    assert "HEADER Cross-Origin-Opener-Policy = same-origin" in out
    assert "script-src 'self'" in out
    assert "CSRF_SECURE True" in out


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict(response) -> None:
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "*" not in header


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/healthz", "/admin/login/", "/", "/treatments/", "/api/v1/therapies/", "/api/v1/docs/"]
)
def test_every_page_has_a_strict_content_security_policy(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_strict(response)


@pytest.mark.django_db
def test_the_admin_pages_have_a_strict_content_security_policy(editor_client):
    source = factories.make_source()
    for url in (
        reverse("admin:index"),
        reverse("admin:findings_source_changelist"),
        reverse("admin:findings_source_change", args=[source.pk]),
        reverse("admin:findings_source_history", args=[source.pk]),
        reverse("admin:treatments_therapy_add"),
    ):
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)
        # Nothing inline that the policy would block (and log in the console).
        html = response.content.decode()
        assert "<script>" not in html, url
        assert 'style="' not in html, url
        assert "<style" not in html, url


@pytest.mark.django_db
def test_admin_logins_lock_after_repeated_failures_and_unlock_after_the_cool_off(client, settings):
    user = factories.make_editor(username="alice")
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": "alice", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    assert client.post(url, {"username": "alice", "password": "wrong"}).status_code == 429

    # Locked: even the right password is refused.
    locked = client.post(url, {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # The cool-off passes.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    unlocked = client.post(url, {"username": "alice", "password": PASSWORD})
    assert unlocked.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_a_lockout_of_one_account_does_not_lock_another(client, settings):
    factories.make_editor(username="alice")
    factories.make_editor(username="bob")
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "alice", "password": "wrong"})

    response = client.post(url, {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_read_only_staff_list_has_nothing_inline_either(client):
    from django.contrib.auth.models import Permission

    viewer = factories.make_user()
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    client.force_login(viewer)
    factories.make_source()

    response = client.get(reverse("admin:findings_source_changelist"))

    assert response.status_code == 200
    assert response.context["action_form"] is None  # no actions: Django would add <style>
    assert "<style" not in response.content.decode()
    assert_strict(response)
