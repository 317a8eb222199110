"""Compressed responses for readers, never for a page that carries a secret.

HTML, JSON and CSV compress to a fraction of their size, which matters to a reader on a
slow phone connection. But compressing a response that reflects what the request
sent *and* holds a secret (a CSRF token, a session's personal data) lets an attacker
who can watch the encrypted sizes guess the secret a character at a time (BREACH).
Django's GZipMiddleware pads its output at random ("Heal the Breach"), which slows the
attack down but does not rule it out; so this middleware compresses only responses
that carry no secret:

- the request has no session cookie and no ``Authorization`` header (a curator's or an
  editor's pages, and token calls to the API, may show drafts and personal data), and
- the response sets no cookie: a page that rendered a CSRF token (the admin's forms,
  the login page) sends the token's cookie with it, and a new session sends its own.

Readers' pages, the API's public reads, feeds and exports are compressed; the admin
is not. docs/security.md ("Compression and BREACH") explains the choice.
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.gzip import GZipMiddleware


def carries_no_secret(request, response) -> bool:
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
        and not response.cookies
    )


class PublicGZipMiddleware(GZipMiddleware):
    """GZipMiddleware for responses that carry no secret (see the module docstring)."""

    def process_response(self, request, response):
        if not carries_no_secret(request, response):
            return response
        return super().process_response(request, response)
