"""gunicorn's workers freeze what lives for their whole life out of the garbage
collector's way (mecfs_kb/gunicorn_conf.py, issue 14): once the app is loaded, and
again after its 20th and 200th requests, never after. Their threads take turns at the GIL
every millisecond. Garbage is collected after a request once no other request of the
worker is being answered, and the memory freed is then given back to the system (glibc's
``malloc_trim``); the worker's threads share two malloc arenas."""

from __future__ import annotations

import gc
import platform
import sys
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.test_security_proxy import gunicorn_conf


class Worker(SimpleNamespace):
    """What the hooks read of a gunicorn worker: its request count and its log."""

    def __init__(self, nr: int = 5):
        # Before its first freeze (the 20th request): only the collections between
        # requests are counted.
        super().__init__(nr=nr, log=SimpleNamespace(debug=lambda *args: None))


def request(path: str = "/api/v1/therapies/"):
    return SimpleNamespace(method="GET", path=path)


def collections(monkeypatch) -> list[tuple]:
    made: list[tuple] = []
    monkeypatch.setattr(gc, "collect", lambda *args: made.append(args) or 0)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    return made


def test_a_worker_answering_one_request_at_a_time_collects_after_each(monkeypatch):
    made = collections(monkeypatch)
    config = gunicorn_conf(monkeypatch)
    worker = Worker()
    for number in range(1, 4):
        config.pre_request(worker, request())
        assert len(made) == number - 1  # nothing while the request is answered
        config.post_request(worker, request(), {}, None)
        assert made == [()] * number  # a full collection (every generation)


def test_a_worker_collects_only_once_its_last_request_is_answered(monkeypatch):
    # gthread: while one thread answers a request, another's end collects nothing; a
    # collection then would walk the live objects of every request still being answered.
    made = collections(monkeypatch)
    config = gunicorn_conf(monkeypatch)
    worker = Worker()
    first, second, third = request("/a"), request("/b"), request("/c")
    config.pre_request(worker, first)
    config.pre_request(worker, second)
    config.post_request(worker, first, {}, None)
    config.pre_request(worker, third)
    config.post_request(worker, third, {}, None)
    assert made == []
    config.post_request(worker, second, {}, None)
    assert made == [()]
    # A hook called once too often (an error before pre_request) counts no request below
    # zero: the next request alone is still the last one.
    config.post_request(worker, second, {}, None)
    made.clear()
    config.pre_request(worker, first)
    config.pre_request(worker, second)
    config.post_request(worker, first, {}, None)
    assert made == []
    config.post_request(worker, second, {}, None)
    assert made == [()]


def test_collections_between_requests_can_be_turned_off(monkeypatch):
    made = collections(monkeypatch)
    config = gunicorn_conf(monkeypatch, WEB_COLLECT_WHEN_IDLE="0")
    worker = Worker()
    for _ in range(3):
        config.pre_request(worker, request())
        config.post_request(worker, request(), {}, None)
    assert made == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEB_COLLECT_WHEN_IDLE", "sometimes"),
        ("WEB_TRIM_WHEN_IDLE", "often"),
        ("WEB_MALLOC_ARENAS", "two"),
    ],
)
def test_a_mistyped_setting_stops_the_server(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        gunicorn_conf(monkeypatch, **{name: value})


def test_a_request_is_still_logged_as_gunicorn_logs_it(monkeypatch):
    logged: list[tuple] = []
    collections(monkeypatch)
    config = gunicorn_conf(monkeypatch)
    worker = Worker()
    worker.log = SimpleNamespace(debug=lambda *args: logged.append(args))
    config.pre_request(worker, request("/treatments/"))
    assert logged == [("%s %s", "GET", "/treatments/")]


def test_a_worker_freezes_after_loading_the_app_and_after_its_first_requests(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect") or 0)
    monkeypatch.setattr(sys, "setswitchinterval", lambda seconds: None)
    # Without the collections between requests (tested below), which would be counted.
    config = gunicorn_conf(monkeypatch, WEB_COLLECT_WHEN_IDLE="0")
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
    config = gunicorn_conf(monkeypatch, WEB_COLLECT_WHEN_IDLE="0")
    # gthread: other threads may have counted past 20 or 200 before this hook runs.
    config.post_request(SimpleNamespace(nr=23), None, None, None)
    config.post_request(SimpleNamespace(nr=24), None, None, None)
    assert calls == ["freeze"]
    config.post_request(SimpleNamespace(nr=203), None, None, None)
    config.post_request(SimpleNamespace(nr=204), None, None, None)
    assert calls == ["freeze", "freeze"]
    # A worker whose first hook runs past both counts freezes once for both.
    fresh = gunicorn_conf(monkeypatch, WEB_COLLECT_WHEN_IDLE="0")
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


class FakeLibc:
    """What the hooks call of glibc, recorded."""

    def __init__(self, calls: list):
        self.calls = calls

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append(("mallopt", option, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad))
        return 1


def with_libc(monkeypatch, libc, **env: str):
    calls: list = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(("collect",)) or 0)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(sys, "setswitchinterval", lambda seconds: None)
    config = gunicorn_conf(monkeypatch, **env)
    # The hooks read the module's C library; the test process keeps its own allocator.
    config.post_request.__globals__["_libc"] = libc(calls) if libc else None
    return config, calls


def test_an_idle_worker_gives_freed_memory_back_after_collecting(monkeypatch):
    config, calls = with_libc(monkeypatch, FakeLibc)
    worker = Worker()
    first, second = request("/a"), request("/b")
    config.pre_request(worker, first)
    config.pre_request(worker, second)
    config.post_request(worker, first, {}, None)
    assert calls == []  # another request is still being answered
    config.post_request(worker, second, {}, None)
    assert calls == [("collect",), ("malloc_trim", 0)]


@pytest.mark.parametrize(
    ("env", "made"),
    [
        ({}, [("mallopt", -8, 2)]),  # M_ARENA_MAX: two arenas for the worker's threads
        ({"WEB_MALLOC_ARENAS": "4"}, [("mallopt", -8, 4)]),
        ({"WEB_MALLOC_ARENAS": "0"}, []),  # glibc's own default
    ],
)
def test_a_worker_bounds_its_malloc_arenas_before_its_threads_start(monkeypatch, env, made):
    config, calls = with_libc(monkeypatch, FakeLibc, **env)
    config.post_worker_init(SimpleNamespace(nr=0))
    assert calls == made


def test_giving_memory_back_can_be_turned_off(monkeypatch):
    config, calls = with_libc(monkeypatch, FakeLibc, WEB_TRIM_WHEN_IDLE="0")
    worker = Worker()
    config.pre_request(worker, request())
    config.post_request(worker, request(), {}, None)
    assert calls == [("collect",)]


def test_without_glibc_the_worker_leaves_its_allocator_alone(monkeypatch):
    config, calls = with_libc(monkeypatch, None)
    worker = Worker()
    config.post_worker_init(SimpleNamespace(nr=0))
    config.pre_request(worker, request())
    config.post_request(worker, request(), {}, None)
    assert calls == [("collect",)]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_glibc_is_found_where_it_is_the_c_library(monkeypatch):
    config = gunicorn_conf(monkeypatch)
    libc = config.post_request.__globals__["_glibc"]()
    assert libc is not None and libc.malloc_trim(0) in (0, 1)


# --- the worker model (docs/performance.md, "The worker model, measured again") -------


@pytest.mark.parametrize(
    ("env", "cpus", "kind", "workers", "threads"),
    [
        ({}, {0, 1}, "sync", 4, 1),
        ({}, {0, 1, 2, 3, 4, 5, 6, 7}, "sync", 16, 1),
        ({"WEB_CONCURRENCY": "3"}, {0, 1}, "sync", 3, 1),
        ({"WEB_THREADS": "8"}, {0, 1}, "gthread", 4, 8),
        ({"WEB_CONCURRENCY": "2", "WEB_THREADS": "8"}, {0, 1}, "gthread", 2, 8),
    ],
)
def test_a_server_runs_two_sync_workers_per_core_unless_told_otherwise(
    monkeypatch, env, cpus, kind, workers, threads
):
    """Two sync workers per CPU the server may run on; threads make them gthread workers."""
    for name in ("WEB_CONCURRENCY", "WEB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: cpus, raising=False)
    config = gunicorn_conf(monkeypatch, **env)
    assert (config.worker_class_str, config.workers, config.threads) == (kind, workers, threads)
    # As gunicorn runs it: its sync worker, or its threaded one.
    assert config.worker_class.__name__ == {"sync": "SyncWorker", "gthread": "ThreadWorker"}[kind]


@pytest.mark.parametrize("name", ["WEB_CONCURRENCY", "WEB_THREADS"])
def test_a_mistyped_worker_count_stops_the_server(monkeypatch, name):
    with pytest.raises(ImproperlyConfigured, match=name):
        gunicorn_conf(monkeypatch, **{name: "four"})
