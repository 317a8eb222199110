"""gunicorn settings shared by ``make serve``, bench/ and production (docs/deploy.md).

Command-line flags win over these. App servers are stateless: sessions live in the
database, the cache in Redis, so any number of them can stand behind nginx.
"""

import os

# Sync workers: the views are short, CPU-bound and talk to a nearby database.
# One or two per core; more only adds memory and context switches.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Behind nginx, which buffers slow clients, keep-alive costs a worker for nothing.
keepalive = 2
timeout = 30
graceful_timeout = 20
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 24+ opens a control socket at one fixed path per user; several servers on
# one machine (bench/ runs three) would fight over it, and nothing here uses it.
control_socket_disable = True
