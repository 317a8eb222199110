"""Production settings refuse to start with unsafe defaults, and say why."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 20 + "-strong-random-looking-secret-0123456789"


def run_check(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_check(DEBUG="0", ALLOWED_HOSTS="kb.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_refuses_the_development_key_when_debug_is_off():
    result = run_check(
        DEBUG="0",
        SECRET_KEY="dev-only-insecure-secret-key-never-use-in-production",
        ALLOWED_HOSTS="kb.example.org",
    )
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts_when_debug_is_off():
    result = run_check(DEBUG="0", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_it_starts_with_a_real_key_and_hosts():
    result = run_check(DEBUG="0", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="kb.example.org")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_it_rejects_a_debug_value_it_does_not_understand(value):
    result = run_check(DEBUG=value)
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_development_defaults_apply_under_debug():
    result = run_check(DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_manage_py_defaults_to_development_settings():
    result = run_check()
    assert result.returncode == 0, result.stderr


def test_the_wsgi_app_that_serves_readers_keeps_debug_off_by_default():
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    result = subprocess.run(
        [sys.executable, "-c", "import mecfs_kb.wsgi"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
