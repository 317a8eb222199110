"""The schema is the truth (issue 16): a Python client generated from the live schema by
openapi-python-client type-checks, with the example script of docs/api.md
(examples/api_client.py), under ``mypy --strict``, and the script runs against a live
test server: anonymous reads with a plain ``Client``, a write with an
``AuthenticatedClient`` (which sends ``Bearer <token>``).

Offline: the schema comes from the test server, the generator and mypy run from the
virtualenv, and the script talks to 127.0.0.1 only. The client is generated once per
session, in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from curation.models import Status
from findings.models import Source
from tests.factories import make_evidence, make_token

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "api_client.py"
CONFIG = ROOT / "examples" / "openapi-python-client.yml"


def _run(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_PROXY": "*", **(env or {})},
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="session")
def generated_client(live_server, django_db_blocker, tmp_path_factory) -> Path:
    """A folder holding ``mecfs_kb_client``, generated from the schema the server serves."""
    folder = tmp_path_factory.mktemp("generated-client")
    url = f"{live_server.url}/api/v1/schema/?format=json"
    with django_db_blocker.unblock(), urllib.request.urlopen(url) as answer:
        (folder / "schema.json").write_bytes(answer.read())
    generated = _run(
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(folder / "schema.json"),
        "--output-path",
        str(folder / "mecfs_kb_client"),
        "--meta",
        "none",
        "--config",
        str(CONFIG),
        cwd=folder,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # A warning means some part of the schema could not be turned into code.
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    return folder


def test_the_generated_client_and_the_example_type_check(generated_client):
    checked = _run(
        "-m",
        "mypy",
        "--strict",
        "--no-incremental",
        "--cache-dir",
        os.devnull,
        str(EXAMPLE),
        env={"MYPYPATH": str(generated_client)},
        cwd=generated_client,
    )

    # The generated package is checked too (mypy follows the script's imports).
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found" in checked.stdout


def test_the_example_reads_anonymously_and_writes_with_a_token(
    generated_client, live_server, curator
):
    strong = make_evidence(level="A")
    weak = make_evidence(level="B")
    make_evidence(level="D")  # below the example's level=B: not listed

    ran = _run(
        str(EXAMPLE),
        live_server.url,
        make_token(curator),
        env={"PYTHONPATH": str(generated_client)},
        cwd=generated_client,
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    # Strongest evidence first (sort=-evidence,name, sent as the key repeated).
    assert lines[:3] == [
        "2 therapies with evidence of level B or better:",
        f"  {strong.therapy.name} (best level A)",
        f"  {weak.therapy.name} (best level B)",
    ]
    assert f"{strong.therapy.slug} read again with its ETag: 304" in lines
    draft = Source.objects.get(title="A draft written by the example client")
    assert (draft.year, draft.status) == (2011, Status.DRAFT)
    assert f"Draft source {draft.pk}: {draft.title} (2011), draft" in lines
