"""gunicorn's workers freeze what lives for their whole life out of the garbage
collector's way (mecfs_kb/gunicorn_conf.py, issue 14): once the app is loaded, and
again after its 20th and 200th requests, never after. Their threads take turns at the GIL
every millisecond."""

from __future__ import annotations

import gc
import sys
from types import SimpleNamespace

import pytest

from tests.test_security_proxy import gunicorn_conf


def test_a_worker_freezes_after_loading_the_app_and_after_its_first_requests(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect") or 0)
    monkeypatch.setattr(sys, "setswitchinterval", lambda seconds: None)
    config = gunicorn_conf(monkeypatch)
    worker = SimpleNamespace(nr=0)

    config.post_worker_init(worker)
    assert calls == ["freeze"]

    request = environ = response = None
    for worker.nr in range(1, 20):
        config.post_request(worker, request, environ, response)
    assert calls == ["freeze"]

    worker.nr = 20
    config.post_request(worker, request, environ, response)
    assert calls == ["freeze", "collect", "freeze"]

    for worker.nr in range(21, 200):
        config.post_request(worker, request, environ, response)
    assert calls == ["freeze", "collect", "freeze"]

    worker.nr = 200
    config.post_request(worker, request, environ, response)
    assert calls == ["freeze", "collect", "freeze", "collect", "freeze"]

    for worker.nr in range(201, 1000):
        config.post_request(worker, request, environ, response)
    assert calls == ["freeze", "collect", "freeze", "collect", "freeze"]


def test_a_thread_that_misses_the_exact_count_still_freezes_once(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *args: 0)
    config = gunicorn_conf(monkeypatch)
    # gthread: other threads may have counted past 20 or 200 before this hook runs.
    config.post_request(SimpleNamespace(nr=23), None, None, None)
    config.post_request(SimpleNamespace(nr=24), None, None, None)
    assert calls == ["freeze"]
    config.post_request(SimpleNamespace(nr=203), None, None, None)
    config.post_request(SimpleNamespace(nr=204), None, None, None)
    assert calls == ["freeze", "freeze"]
    # A worker whose first hook runs past both counts freezes once for both.
    fresh = gunicorn_conf(monkeypatch)
    fresh.post_request(SimpleNamespace(nr=250), None, None, None)
    assert calls == ["freeze", "freeze", "freeze"]


@pytest.mark.parametrize(
    ("env", "interval"), [({}, 0.001), ({"WEB_SWITCH_INTERVAL": "0.002"}, 0.002)]
)
def test_a_worker_lets_its_threads_take_turns_every_millisecond(monkeypatch, env, interval):
    """1 ms instead of Python's 5 (mecfs_kb/gunicorn_conf.py), unless set otherwise; the
    process running the tests keeps its own."""
    set_to: list[float] = []
    monkeypatch.setattr(sys, "setswitchinterval", set_to.append)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    config = gunicorn_conf(monkeypatch, **env)
    config.post_worker_init(SimpleNamespace(nr=0))
    assert set_to == [interval]
