"""Tests never touch the network: any connection (or name look-up) to a host other than
this machine fails the test at once, with a message saying what to do instead.

Installed for the whole session by tests/conftest.py. Loopback stays open (the test
server, PostgreSQL on 127.0.0.1, the browser tests' proxy), and so do the hosts named
in DATABASE_URL and REDIS_URL, which CI may put elsewhere. Outside services (Crossref,
PubMed, Europe PMC, ClinicalTrials.gov) are answered by respx from the recordings in
tests/recordings/.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit


class NetworkCallInTest(RuntimeError):
    pass


def _configured_hosts() -> set[str]:
    hosts = {"localhost", "localhost.localdomain"}
    for name in ("DATABASE_URL", "REDIS_URL", "REPLICA_DATABASE_URLS"):
        for url in os.environ.get(name, "").split(","):
            host = urlsplit(url.strip()).hostname
            if host:
                hosts.add(host)
    return hosts


def _local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]")
    if host in _configured_hosts():
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(where) -> None:
    raise NetworkCallInTest(
        f"A test tried to reach {where} over the network. Tests never touch the network: "
        "record the service's answer under tests/recordings/ and serve it with respx "
        "(see tests/lookup_recordings.py)."
    )


def install() -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(f"{address[0]}:{address[1]}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(f"{address[0]}:{address[1]}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _local(host):
            _refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
