"""Database outages: 503 instead of a crash, and recovery without a restart."""

from __future__ import annotations

import json
import os
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
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from curation.models import Status
from mecfs_kb import faults
from tests import factories
from tests.tcp_proxy import CuttableProxy

BASE_DIR = Path(__file__).resolve().parent.parent


def _server_port() -> int:
    """FAULTS_TEST_PORT if set, else a port free now: parallel runs (pytest-xdist, other
    checkouts on the same machine) never meet a server that is not theirs."""
    if os.environ.get("FAULTS_TEST_PORT"):
        return int(os.environ["FAULTS_TEST_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- in-process: the middleware and the handler ------------------------------------------


@pytest.mark.django_db
def test_a_page_answers_503_in_html_when_its_query_fails(client):
    source = factories.make_source()
    with mock.patch(
        "findings.views.SourceDetailView.get_object", side_effect=OperationalError("down")
    ):
        response = client.get(source.get_absolute_url())
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.content.decode()
    # Still under the security headers.
    assert "Content-Security-Policy" in response.headers


def test_an_api_path_gets_a_json_503_in_the_apis_error_shape():
    request = RequestFactory().get("/api/v1/therapies/")
    response = faults.unavailable_response(request)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "status": 503,
        "code": "unavailable",
        "detail": faults.MESSAGE,
        "errors": {},
    }


def test_the_health_check_keeps_its_own_503_body_for_load_balancers():
    response = faults.unavailable_response(RequestFactory().get("/healthz"))
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "unreachable"


def test_an_outage_escaping_the_middleware_is_a_503_not_a_500():
    request = RequestFactory().get("/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = faults.server_error(request)
    assert response.status_code == 503


def test_other_errors_stay_500():
    request = RequestFactory().get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = faults.server_error(request)
    assert response.status_code == 500


@pytest.mark.django_db
def test_the_health_check_answers_503_through_the_test_client(client):
    with mock.patch("mecfs_kb.health.connection.cursor", side_effect=OperationalError("down")):
        response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 503


# --- a real server, a real PostgreSQL, and a cut in between -------------------------------


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read()}")
        try:
            _get(f"{base}/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


@pytest.fixture
def server_behind_a_cuttable_proxy(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the test cuts a real database connection")
    db = connection.settings_dict
    proxy = CuttableProxy(upstream=(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DEBUG="0",
        HTTPS="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        # The test database, reached through the proxy; connections are kept (the hard
        # case: a held connection dies under the app and must be replaced).
        DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
        CONN_MAX_AGE="60",
    )
    port = _server_port()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=120,
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mecfs_kb.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base, proxy
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        proxy.stop()


@pytest.mark.django_db(transaction=True)
def test_the_app_answers_503_while_the_database_is_down_and_recovers_when_it_returns(
    server_behind_a_cuttable_proxy,
):
    base, proxy = server_behind_a_cuttable_proxy
    therapy = factories.make_therapy(slug="low-dose-naltrexone", status=Status.PUBLISHED)
    page = f"{base}{therapy.get_absolute_url()}"

    api = f"{base}/api/v1/therapies/{therapy.slug}/"
    assert _get(f"{base}/healthz")[0] == 200
    assert _get(page)[0] == 200
    assert _get(api)[0] == 200

    proxy.cut()
    for _ in range(3):  # again and again while it is down: never a 500, never a hang
        status, content_type, body = _get(f"{base}/healthz")
        assert status == 503
        assert content_type == "application/json"
        status, content_type, body = _get(page)
        assert status == 503, body
        assert content_type.startswith("text/html")
        assert "Temporarily unavailable" in body
        status, content_type, body = _get(api)
        assert status == 503, body
        assert content_type == "application/json"
        assert '"code": "unavailable"' in body

    proxy.restore()
    # No restart: the next requests reconnect by themselves.
    assert _get(f"{base}/healthz")[0] == 200
    status, _, body = _get(page)
    assert status == 200
    assert therapy.name in body
    assert _get(api)[0] == 200
