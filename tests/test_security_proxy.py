"""Penetration test, issue 19: items 4, 5, 6 and 8 (docs/security.md).

Each test replays the attack as reported and fails if the protection is removed.
Addresses are from the documentation ranges (RFC 5737, RFC 3849).
"""

from __future__ import annotations

import io
import json
import os
import runpy
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse
from gunicorn.config import Config as GunicornConfig
from rest_framework.exceptions import ParseError

from curation.clientip import client_ip
from curation.rest import JSONParser
from mecfs_kb.env import envnetworks
from tests import factories

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.5"  # nginx, as the app server sees it
CLIENT_A = "198.51.100.1"
CLIENT_B = "198.51.100.2"


def assert_api_error(response, status: int, code: str) -> dict:
    """The API's one error shape (curation/rest.py error_body)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"status", "code", "detail", "errors"}
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    return body


@pytest.fixture
def behind_a_proxy(settings):
    """What TRUSTED_PROXIES=10.0.0.5 sets up in mecfs_kb/settings.py."""
    settings.TRUSTED_PROXIES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def through_the_proxy(client_address: str, claimed: str | None = None) -> dict[str, str]:
    """A request as nginx passes it on: it appends the address it was connected from
    ($proxy_add_x_forwarded_for) to whatever the client claimed."""
    forwarded = f"{claimed}, {client_address}" if claimed else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


# --- the one place that decides the client's address -------------------------------------


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        # No proxies configured: the header is ignored, whatever it says.
        ([], "192.0.2.1", "203.0.113.9", "192.0.2.1"),
        # A connection that does not come from a proxy is its own client.
        ([PROXY], "192.0.2.1", "203.0.113.9", "192.0.2.1"),
        ([PROXY], PROXY, "203.0.113.9", "203.0.113.9"),
        # What the client wrote to the left of what nginx appended does not count.
        ([PROXY], PROXY, "1.1.1.1, 203.0.113.9", "203.0.113.9"),
        ([PROXY], PROXY, "garbage, 203.0.113.9", "203.0.113.9"),
        # Two proxies in a trusted network: the first address that is not one of them.
        (["10.0.0.0/24"], PROXY, "203.0.113.9, 10.0.0.7", "203.0.113.9"),
        # A proxy that forwarded nothing usable is taken as the client.
        ([PROXY], PROXY, "", PROXY),
        ([PROXY], PROXY, "not-an-address", PROXY),
        (["2001:db8::5"], "2001:db8::5", "2001:db8:1::9", "2001:db8:1::9"),
        # A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
        ([PROXY], f"::ffff:{PROXY}", "203.0.113.9", "203.0.113.9"),
    ],
)
def test_the_client_address_comes_from_forwarded_headers_only_through_trusted_proxies(
    settings, proxies, remote, forwarded, expected
):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.parametrize("value", ["nginx", "*", "10.0.0.1/24", "10.0.0.5;10.0.0.6"])
def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch, value):
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        envnetworks("TRUSTED_PROXIES")


def test_trusted_proxies_accept_addresses_and_networks_of_both_families(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16,2001:db8::/32")
    assert envnetworks("TRUSTED_PROXIES") == ["10.0.0.5", "10.1.0.0/16", "2001:db8::/32"]


# --- item 4: the anonymous API throttle ----------------------------------------------------


@pytest.mark.django_db
def test_a_client_rotating_x_forwarded_for_is_throttled_like_any_other(api_client, settings):
    # The report: 300 requests, each with another X-Forwarded-For, all got 200.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "120/minute", "user": "600/minute"},
    }
    statuses = [
        api_client.get(
            "/api/v1/sources/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 250}, 192.0.2.{n % 7}"
        ).status_code
        for n in range(300)
    ]
    assert statuses.count(200) == 120
    assert statuses.count(429) == 180


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own_address(
    api_client, settings, behind_a_proxy
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "600/minute"},
    }
    # Client A rotates what it claims; nginx appends its real address each time.
    for n in range(2):
        claimed = f"203.0.113.{n}"
        response = api_client.get("/api/v1/sources/", **through_the_proxy(CLIENT_A, claimed))
        assert response.status_code == 200
    throttled = api_client.get("/api/v1/sources/", **through_the_proxy(CLIENT_A, "203.0.113.99"))
    assert_api_error(throttled, 429, "throttled")

    # Client B shares the proxy's address but not A's count.
    assert api_client.get("/api/v1/sources/", **through_the_proxy(CLIENT_B)).status_code == 200


# --- item 5: the admin login lockout -------------------------------------------------------


def fail_logins(client, username: str, times: int, **extra) -> None:
    for _ in range(times):
        client.post(reverse("admin:login"), {"username": username, "password": "wrong"}, **extra)


@pytest.mark.django_db
def test_behind_a_trusted_proxy_failures_from_one_client_do_not_lock_out_another(
    client, settings, behind_a_proxy
):
    user = factories.make_editor(username="alice")
    fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT, **through_the_proxy(CLIENT_A))

    # Client A is locked out of alice...
    locked = client.post(
        reverse("admin:login"),
        {"username": "alice", "password": PASSWORD},
        **through_the_proxy(CLIENT_A, claimed=CLIENT_B),  # claiming B's address does not help
    )
    assert locked.status_code == 429
    # ...alice herself, at client B behind the same proxy, is not.
    other = Client()
    response = other.post(
        reverse("admin:login"),
        {"username": "alice", "password": PASSWORD},
        **through_the_proxy(CLIENT_B),
    )
    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(user.pk)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT_A}


@pytest.mark.django_db
def test_without_trusted_proxies_a_spoofed_x_forwarded_for_does_not_change_the_address_axes_sees(
    client, settings
):
    factories.make_editor(username="alice")
    # Each failure claims another address; all of them count against the connection's.
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("admin:login"),
            {"username": "alice", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )

    response = client.post(
        reverse("admin:login"),
        {"username": "alice", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.200",
    )

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


# --- item 6: deeply nested JSON ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_json_nested_100000_levels_deep_is_a_json_400_not_a_500(curator_api, body):
    response = curator_api.post("/api/v1/evidence/", body, content_type="application/json")
    body = assert_api_error(response, 400, "parse_error")
    assert "nested" in body["detail"]


@pytest.mark.django_db
def test_json_that_parses_but_nests_past_the_limit_is_refused_too(curator_api):
    depth = JSONParser.max_depth + 1
    body = json.dumps({"statement": json.loads("[" * depth + "]" * depth)})
    response = curator_api.post("/api/v1/sources/", body, content_type="application/json")
    assert_api_error(response, 400, "parse_error")


def test_the_parser_accepts_nesting_up_to_the_limit():
    depth = JSONParser.max_depth
    data = JSONParser().parse(io.BytesIO(("[" * depth + "]" * depth).encode()))
    assert data == json.loads("[" * depth + "]" * depth)
    with pytest.raises(ParseError):
        JSONParser().parse(io.BytesIO(("[" * (depth + 1) + "]" * (depth + 1)).encode()))


# --- item 8: every error under /api/ in the API's shape ------------------------------------


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_a_json_413_not_an_html_400(curator_api, settings):
    body = json.dumps({"title": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = curator_api.post("/api/v1/sources/", body, content_type="application/json")
    assert_api_error(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_the_schema_documents_the_413_on_every_operation_with_a_body(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    writes = [
        (path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("post", "patch")
    ]
    assert writes
    for path, operation in writes:
        body = operation["responses"]["413"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Error"}, path


@pytest.mark.django_db
def test_djangos_own_400s_under_the_api_are_json(api_client):
    # A Host header not in ALLOWED_HOSTS is refused by Django before any view runs.
    response = api_client.get("/api/v1/sources/", HTTP_HOST="evil.example")
    assert_api_error(response, 400, "bad_request")
    # Reader pages keep their HTML page.
    page = Client().get("/sources/", HTTP_HOST="evil.example")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_bug_under_the_api_is_a_json_500_in_the_error_shape():
    client = Client(raise_request_exception=False)
    with mock.patch("findings.api.SourceViewSet.list", side_effect=RuntimeError("a bug")):
        response = client.get("/api/v1/sources/")
    body = assert_api_error(response, 500, "server_error")
    assert "a bug" not in body["detail"]  # nothing of the traceback leaks
    # Reader pages keep their HTML page.
    with mock.patch("findings.views.SourceListView.get", side_effect=RuntimeError("a bug")):
        page = client.get("/sources/")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_database_outage_under_the_api_is_a_json_503_in_the_error_shape():
    client = Client(raise_request_exception=False)
    with mock.patch(
        "findings.api.SourceViewSet.get_queryset", side_effect=OperationalError("down")
    ):
        response = client.get("/api/v1/sources/")
    assert_api_error(response, 503, "unavailable")
    assert response["Retry-After"] == "30"


# --- item 8: X-Forwarded-Proto, in Django and in gunicorn -----------------------------------


@pytest.mark.django_db
def test_django_reads_x_forwarded_proto_only_from_a_trusted_proxy(settings, behind_a_proxy):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    from_proxy = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert from_proxy.status_code == 200
    # Another host that reaches the app server directly cannot claim HTTPS.
    direct = client.get("/healthz", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_PROTO="https")
    assert direct.status_code == 301


def gunicorn_conf(monkeypatch, **env: str) -> GunicornConfig:
    """mecfs_kb/gunicorn_conf.py read under ``env``, applied as gunicorn applies it."""
    for name in ("TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_module("mecfs_kb.gunicorn_conf")
    config = GunicornConfig()
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_gunicorn_trusts_no_forwarded_headers_without_trusted_proxies(monkeypatch):
    config = gunicorn_conf(monkeypatch)
    # gunicorn's own default is 127.0.0.1,::1.
    assert config.forwarded_allow_ips == []
    assert config.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}


def test_gunicorn_trusts_the_proxies_django_trusts(monkeypatch):
    config = gunicorn_conf(monkeypatch, TRUSTED_PROXIES="10.0.0.5,10.1.0.0/16")
    assert config.forwarded_allow_ips == ["10.0.0.5", "10.1.0.0/16"]


def test_gunicorn_refuses_the_old_forwarded_allow_ips_variable(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        gunicorn_conf(monkeypatch, FORWARDED_ALLOW_IPS="127.0.0.1")


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    unwanted = ("DEBUG", "HTTPS", "DATABASE_URL", "TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS")
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        # /healthz only asks the database for SELECT 1: an empty file will do.
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    )
    return env


def test_the_app_refuses_the_old_trust_x_forwarded_proto_setting_and_says_what_replaces_it(
    tmp_path,
):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=production_env(tmp_path, TRUST_X_FORWARDED_PROTO="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRUST_X_FORWARDED_PROTO is replaced by TRUSTED_PROXIES" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_of(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)
    # No redirect following: the redirect to HTTPS is what is being looked for.
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.parametrize(("trusted_proxies", "expected"), [("", 301), ("127.0.0.1", 200)])
def test_a_real_gunicorn_believes_x_forwarded_proto_from_localhost_only_when_told(
    tmp_path, trusted_proxies, expected
):
    """The report: gunicorn honoured X-Forwarded-Proto from 127.0.0.1 with the proxy
    setting off. A plain-HTTP request claiming HTTPS must get the redirect to HTTPS."""
    port = free_port()
    env = production_env(tmp_path, HTTPS="1", TRUSTED_PROXIES=trusted_proxies)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mecfs_kb.wsgi",
            "--config",
            "python:mecfs_kb.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {process.stdout.read()}")
            try:
                status = status_of(url, {"X-Forwarded-Proto": "https"})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert status == expected
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
