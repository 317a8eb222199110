"""gunicorn settings shared by ``make serve``, bench/ and production (docs/deploy.md).

Command-line flags win over these. App servers are stateless: sessions live in the
database, the cache in Redis, so any number of them can stand behind nginx.
"""

import ctypes
import ctypes.util
import gc
import os
import sys
import threading

from django.core.exceptions import ImproperlyConfigured

from mecfs_kb.env import envbool, envint, envnetworks


def _cores() -> int:
    """The CPUs this process may run on (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


# Sync workers, two per core, chosen by measurement (docs/performance.md, "The worker
# model, measured again (eighth part)"). Under the 50-client load test of 2 December
# 2026, 4 sync workers answered more requests than 2 gthread workers of 8 threads, at
# half the p95: 397-419 against 352-405 req/s, p95 155-165 against 227-337 ms, with
# the cache; 184-196 against 157-158 req/s, p95 334-352 against 641-643 ms, without.
# A request now spends most of its time running Python, not waiting for PostgreSQL, and
# a worker's threads only took turns at the GIL (in November, when requests waited
# longer than they ran, 2 x 8 threads had answered 2-3x the requests of 4 sync workers).
# An ASGI server (uvicorn workers) runs Django's sync views in a thread pool anyway and
# refused requests under load. ``WEB_THREADS`` above 1 makes them gthread workers of
# that many threads again. Each worker thread holds its own database connection
# (CONN_MAX_AGE), so a server opens workers x threads of them.
threads = envint("WEB_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
workers = envint("WEB_CONCURRENCY", 2 * _cores())
# Behind nginx, which buffers slow clients (a sync worker answers one connection at a
# time and closes it); gthread workers keep idle keep-alive connections this long.
keepalive = 2
timeout = 30
graceful_timeout = 20
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# X-Forwarded-Proto is believed only from the proxies Django trusts (TRUSTED_PROXIES, read
# as in mecfs_kb/settings.py), and from nobody without them: gunicorn's own default trusts
# 127.0.0.1, so any local process could claim HTTPS. (A UNIX-socket peer is always
# trusted by gunicorn: bind to TCP, as docs/deploy.md does.)
if "FORWARDED_ALLOW_IPS" in os.environ:
    raise ImproperlyConfigured(
        "FORWARDED_ALLOW_IPS is replaced by TRUSTED_PROXIES, which Django reads too: unset "
        "it and list the addresses your proxies connect from in TRUSTED_PROXIES."
    )
forwarded_allow_ips = ",".join(envnetworks("TRUSTED_PROXIES"))
# The one header nginx sets (docs/deploy.md) and Django reads (SECURE_PROXY_SSL_HEADER);
# gunicorn's other defaults (X-Forwarded-Ssl, X-Forwarded-Protocol) would pass through
# nginx from the client untouched.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# gunicorn 24+ opens a control socket at one fixed path per user; several servers on
# one machine (bench/ runs three) would fight over it, and nothing here uses it.
control_socket_disable = True


# The garbage collector, told what lives for the worker's life (docs/performance.md,
# "Garbage collection in the workers"): every full collection walked the ~130,000
# objects of Django, the app and their modules, which never die, and those collections
# made the slowest requests (CPU p95 of a mix of lists at 100,000 items: 158-166 ms, 81-91
# ms with them frozen). Frozen once the worker has loaded the app, and again after its
# first requests have loaded what is imported and compiled lazily (URL patterns,
# templates, serializers): after 20 requests, which load most of it, and after 200, for
# what the rarer requests load. Freezing at 200 alone left the first two hundred
# requests to full collections over it: in process at 100k items on SQLite, a mix of
# lists alternately run, therapies by abnormality CPU p95 98-116 ms with one freeze,
# 84-88 ms with both (docs/performance.md).
FREEZE_AGAIN_AFTER = (20, 200)
_frozen_after: set[int] = set()


# How long a thread may hold the GIL before the others get a turn: 1 ms instead of
# Python's 5 (docs/performance.md, "Curators' writes and the GIL"). A worker's threads
# mostly wait for PostgreSQL and Redis; each time one gets its answer it waits for the
# GIL behind whichever thread is running Python, up to the whole interval, and a
# curator's write makes 14-21 round trips. Under the 50-client load test 1 ms gave
# 1.6-1.8x the requests of 5 ms at half the p95, alternately measured.
SWITCH_INTERVAL = float(os.environ.get("WEB_SWITCH_INTERVAL", "0.001"))


# A full collection once the worker has no request left to answer (docs/performance.md,
# "Garbage collected between requests"). A request leaves its objects in reference
# cycles (DRF's serializers and response, the view and its request), which only the
# collector frees; it ran in the middle of whichever request crossed its threshold, and
# by then the cycles of the last ten or so requests had been moved to the oldest
# generation: at 500,000 items one list request in ten or fifteen took 30 ms more (CPU
# p95 64 ms against a p50 of 29). Collected as each request ends, those objects are all
# dead and the frozen ones are skipped: 0.8 ms a request, and the requests themselves
# ran faster (no collection walked their live objects). Only when no other request of
# the worker is being answered: under load the collector runs on its own, as before,
# rather than once per request over every thread's live objects.
COLLECT_WHEN_IDLE = envbool("WEB_COLLECT_WHEN_IDLE", "1")
_answering = 0
_answering_lock = threading.Lock()


# Memory the worker freed, given back to the system (docs/performance.md, "Memory of
# the workers"). glibc's malloc gives each thread that allocates its own arena, up to
# eight per core, and keeps what a request freed in the arena it came from: after
# 10,000 mixed requests at 500,000 items, every cache off, a gthread worker of 8
# threads held 260 MiB (peak 283), most of it free. Two arenas for the worker's threads
# (``WEB_MALLOC_ARENAS``; 0 leaves glibc's default), and once no request of the worker
# is being answered, ``malloc_trim(0)`` after the collection above hands the free pages
# back (0.5 ms, after the response has left). Only where the C library is glibc.
MALLOC_ARENAS = envint("WEB_MALLOC_ARENAS", 2)
TRIM_WHEN_IDLE = envbool("WEB_TRIM_WHEN_IDLE", "1")
M_ARENA_MAX = -8  # glibc's malloc.h


def _glibc():
    """glibc's C library, or None elsewhere (musl, macOS)."""
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path) if path else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None
    return libc


_libc = _glibc()


def post_worker_init(worker):
    sys.setswitchinterval(SWITCH_INTERVAL)
    if _libc is not None and MALLOC_ARENAS > 0:
        # Before the worker starts its threads: their arenas are made on first use.
        _libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    gc.freeze()


def pre_request(worker, req):
    global _answering
    with _answering_lock:
        _answering += 1
    worker.log.debug("%s %s", req.method, req.path)


def post_request(worker, req, environ, resp):
    global _answering
    with _answering_lock:
        _answering = max(_answering - 1, 0)
        idle = _answering == 0
    # gthread: another thread may have counted past the number before this hook runs.
    due = [n for n in FREEZE_AGAIN_AFTER if n <= worker.nr and n not in _frozen_after]
    if due:
        _frozen_after.update(due)
        gc.collect()
        gc.freeze()
    elif idle and COLLECT_WHEN_IDLE:
        gc.collect()
    if idle and TRIM_WHEN_IDLE and _libc is not None:
        _libc.malloc_trim(0)
