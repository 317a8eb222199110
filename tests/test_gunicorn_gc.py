"""gunicorn's workers freeze what lives for their whole life out of the garbage
collector's way (mecfs_kb/gunicorn_conf.py, issue 14): once the app is loaded, and
once more after the first requests, never again."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from tests.test_security_proxy import gunicorn_conf


def test_a_worker_freezes_after_loading_the_app_and_once_after_its_first_requests(
    monkeypatch,
):
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect") or 0)
    config = gunicorn_conf(monkeypatch)
    worker = SimpleNamespace(nr=0)

    config.post_worker_init(worker)
    assert calls == ["freeze"]

    request = environ = response = None
    for worker.nr in range(1, 200):
        config.post_request(worker, request, environ, response)
    assert calls == ["freeze"]

    worker.nr = 200
    config.post_request(worker, request, environ, response)
    assert calls == ["freeze", "collect", "freeze"]

    for worker.nr in range(201, 1000):
        config.post_request(worker, request, environ, response)
    assert calls == ["freeze", "collect", "freeze"]


def test_a_thread_that_misses_the_exact_count_still_freezes_once(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *args: 0)
    config = gunicorn_conf(monkeypatch)
    # gthread: other threads may have counted past 200 before this hook runs.
    config.post_request(SimpleNamespace(nr=203), None, None, None)
    config.post_request(SimpleNamespace(nr=204), None, None, None)
    assert calls == ["freeze"]
