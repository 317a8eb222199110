"""Who is asking: the one place that decides a client's address.

Anyone can send ``X-Forwarded-For``; it means something only when one of our own
reverse proxies (``settings.TRUSTED_PROXIES``) wrote it. So the header is read only on
connections that come from such a proxy, and then from the right: each proxy appends
the address it was connected from, so the rightmost address that is not one of our
proxies is the client's, and anything to its left is whatever the client claimed.

The API throttles (curation/rest.py) and the admin login lockout (django-axes,
``AXES_CLIENT_IP_CALLABLE``) both ask ``client_ip()``, so they agree on who a client
is. It lives on the ground floor because the throttles do.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    # Checked in settings (mecfs_kb/env.py envnetworks); cached per value, so that tests
    # overriding the setting take effect.
    return tuple(ipaddress.ip_network(proxy) for proxy in proxies)


def _address(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; compare it as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_proxy(address: IPAddress | None) -> bool:
    if address is None:
        return False
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the connection came from one of our proxies, so its X-Forwarded-* count."""
    return _is_proxy(_address(request.META.get("REMOTE_ADDR", "")))


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connecting address, unless that is one of our proxies,
    then the address the proxies say they were connected from."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not from_trusted_proxy(request):
        return remote
    client = _address(remote)
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Not an address our proxies would write: stop at the last one they vouch for.
            break
        client = address
        if not _is_proxy(address):
            break
    return str(client)
