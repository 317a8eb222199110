"""Forwarded headers count only when one of our proxies sent them (settings.TRUSTED_PROXIES).

Django reads ``X-Forwarded-Proto`` through ``SECURE_PROXY_SSL_HEADER`` from whoever sent
it. Behind nginx that is nginx, but an app server is reachable by others too (another
host on its network, a process on its machine): for them the header would turn a plain
HTTP request into a "secure" one and skip the HTTPS redirect. So requests that did not
come from a trusted proxy lose every forwarded header before anything reads one. With
no proxies configured that is every request: the headers are ignored everywhere.
"""

from __future__ import annotations

from curation.clientip import from_trusted_proxy

FORWARDED_PREFIX = "HTTP_X_FORWARDED_"
OTHER_FORWARDED = ("HTTP_FORWARDED", "HTTP_X_REAL_IP")


class ForwardedHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not from_trusted_proxy(request):
            for key in [
                key
                for key in request.META
                if key.startswith(FORWARDED_PREFIX) or key in OTHER_FORWARDED
            ]:
                del request.META[key]
        return self.get_response(request)
