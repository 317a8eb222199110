"""Security settings: deploy check, headers, Content-Security-Policy, login lockout."""

import gzip
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
import gzip
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


# Compression (issue 18): readers' responses are gzip'd; a response that carries a
# secret (a CSRF token, a session's pages, a token call) is not, because of BREACH
# (mecfs_kb/compression.py, docs/security.md "Compression and BREACH").


def gunzipped(response) -> str:
    assert response.headers.get("Content-Encoding") == "gzip"
    return gzip.decompress(response.content).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/treatments/", "/abnormalities/", "/api/v1/therapies/"])
def test_readers_pages_are_gzipped_when_the_browser_accepts_gzip(client, url):
    factories.make_evidence()
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    body = gunzipped(response)
    assert "<html" in body or body.startswith(("{", "["))
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.mark.django_db
def test_a_page_is_sent_plain_to_a_browser_that_does_not_accept_gzip(client):
    response = client.get("/treatments/")
    assert "Content-Encoding" not in response.headers
    assert "<html" in response.content.decode()
    # Caches keep the two apart.
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.mark.django_db
def test_pages_with_a_csrf_token_or_for_a_session_are_never_compressed(client, editor_client):
    login = client.get("/admin/login/", HTTP_ACCEPT_ENCODING="gzip")
    assert login.status_code == 200
    assert "csrfmiddlewaretoken" in login.content.decode()
    assert "Content-Encoding" not in login.headers
    # A curator's or an editor's pages (drafts, personal data), even a reader page.
    for url in ("/treatments/", reverse("admin:index")):
        response = editor_client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200, url
        assert "Content-Encoding" not in response.headers, url
    # A token call to the API.
    token = client.get("/api/v1/therapies/", HTTP_ACCEPT_ENCODING="gzip", HTTP_AUTHORIZATION="x")
    assert "Content-Encoding" not in token.headers


PROBE_GZIP = """
import gzip, os
os.environ["DJANGO_SETTINGS_MODULE"] = "mecfs_kb.settings"
import django
django.setup()
from django.conf import settings
STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"
settings.STORAGES["staticfiles"]["BACKEND"] = STATIC
from django.test import Client
client = Client(HTTP_HOST="kb.example.org")
# Pages that need no database: the API's documentation (public) and the login form.
docs = client.get("/api/v1/docs/", secure=True, HTTP_ACCEPT_ENCODING="gzip")
print("DOCS", docs.status_code, docs.headers.get("Content-Encoding", "plain"))
print("DOCS_HTML", "<html" in gzip.decompress(docs.content).decode().lower())
login = client.get("/admin/login/", secure=True, HTTP_ACCEPT_ENCODING="gzip")
print("LOGIN", login.status_code, login.headers.get("Content-Encoding", "plain"))
"""


def test_production_settings_compress_html_except_pages_with_a_csrf_token():
    """As under ``make serve`` (DEBUG=0; gunicorn adds no compression of its own)."""
    result = run_python(PROBE_GZIP, production_env())
    assert result.returncode == 0, result.stderr
    assert "DOCS 200 gzip" in result.stdout
    assert "DOCS_HTML True" in result.stdout
    assert "LOGIN 200 plain" in result.stdout
