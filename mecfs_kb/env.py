"""Strict readers for settings that come from the environment.

A typo in production configuration must stop the app at start-up with a
message, never fall back to a silent default (healthchecks ``hc/settings.py``).
"""

import ipaddress
import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}"
    )


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None


def envfloat(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(
            f"{name} must be between {minimum:g} and {maximum:g}; got {raw!r}"
        )
    return value


def envurl(name: str, default: str) -> str:
    """An http(s) base URL without a trailing slash (a service or its mirror)."""
    value = os.environ.get(name, default).strip().rstrip("/")
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
        raise ImproperlyConfigured(
            f"{name} must be an http:// or https:// base URL such as {default}; got {value!r}"
        )
    return value


def envemail(name: str, default: str = "") -> str:
    """An email address, or empty. Checked with Django's own validator."""
    value = os.environ.get(name, default).strip()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ImproperlyConfigured(f"{name} must be an email address; got {value!r}") from None
    return value


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envnetworks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDR networks, each checked as gunicorn checks them
    (strictly: ``10.0.0.1/24`` has host bits set and is refused, not silently widened)."""
    values = envlist(name)
    for value in values:
        if value == "*":
            # gunicorn reads "*" as "trust everyone"; for a client address that means every
            # client chooses the address it is counted under.
            raise ImproperlyConfigured(
                f"{name} lists the addresses or networks of your proxies; '*' would trust "
                "any client's forwarded headers."
            )
        try:
            ipaddress.ip_network(value)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks, comma-separated "
                f"(for example 10.0.0.5,10.1.0.0/16); got {value!r}: {exc}"
            ) from None
    return values
