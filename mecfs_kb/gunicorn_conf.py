"""gunicorn settings shared by ``make serve``, bench/ and production (docs/deploy.md).

Command-line flags win over these. App servers are stateless: sessions live in the
database, the cache in Redis, so any number of them can stand behind nginx.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from mecfs_kb.env import envnetworks

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
