"""Polite, bounded HTTP for the lookup services (httpx).

Every request names us (a User-Agent with the contact address from settings, which
also puts Crossref requests in its polite pool), waits its turn under the service's
rate limit, and shares one deadline: a curator hears back within
``LOOKUP_TIMEOUT_SECONDS`` (5 seconds at most) whatever the services do. Every
failure becomes a ``ServiceError`` whose message says, in a curator's words, which
service failed and how; nothing here retries behind the curator's back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    import httpx

USER_AGENT_NAME = "mecfs-kb-source-lookup/1.0"


class LookupFailed(Exception):
    """A lookup gave nothing usable; ``message`` says why, for a curator. ``code`` is
    ``invalid`` (not an identifier), ``not_found``, ``unavailable`` (a service did not
    answer, answered with an error or with something unreadable) or ``not_configured``."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class ServiceError(LookupFailed):
    """One service failed; ``service`` is its name as curators know it."""

    def __init__(self, service: str, message: str, *, code: str = "unavailable"):
        super().__init__(message, code=code)
        self.service = service


class RateLimiter:
    """At most ``per_second`` requests a second from this process (a lock and the time
    the next request may start). A request that could not start before the lookup's
    deadline is refused at once rather than keeping the curator waiting."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, *, deadline: float, service: str) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            if start >= deadline:
                raise ServiceError(
                    service,
                    f"{service} was not asked: its rate limit would have kept you waiting "
                    "past the lookup's time limit. Try again in a moment.",
                )
            self._next = start + self.interval
        if start > now:
            sleep(start - now)


def sleep(seconds: float) -> None:
    """Wait between rate-limited requests (tests replace it: they never wait)."""
    time.sleep(seconds)


@dataclass(frozen=True)
class Service:
    name: str
    base_url_setting: str
    limiter: RateLimiter

    @property
    def base_url(self) -> str:
        return getattr(settings, self.base_url_setting).rstrip("/")


def _ncbi_rate() -> float:
    # NCBI E-utilities: 3 requests a second without an API key, 10 with one.
    return 10.0 if settings.NCBI_API_KEY else 3.0


# Crossref documents 50 requests a second and 5 at once for its public and polite pools;
# Europe PMC and ClinicalTrials.gov publish no number. One lookup makes two or three
# requests, and check_retractions one per source, so these rates keep us far inside
# what each service allows while a curator waits no longer than a second for a turn.
CROSSREF = Service("Crossref", "CROSSREF_API_URL", RateLimiter(5.0))
EUROPEPMC = Service("Europe PMC", "EUROPEPMC_API_URL", RateLimiter(5.0))
CTGOV = Service("ClinicalTrials.gov", "CTGOV_API_URL", RateLimiter(2.0))
_ncbi_limiters = {3.0: RateLimiter(3.0), 10.0: RateLimiter(10.0)}


def ncbi() -> Service:
    return Service("PubMed (NCBI E-utilities)", "NCBI_EUTILS_URL", _ncbi_limiters[_ncbi_rate()])


def user_agent() -> str:
    return f"{USER_AGENT_NAME} (mailto:{settings.LOOKUP_CONTACT_EMAIL})"


class Session:
    """One lookup's requests: one httpx client, one deadline."""

    def __init__(self, *, budget: float | None = None):
        if not settings.LOOKUP_CONTACT_EMAIL:
            raise LookupFailed(
                "Lookup by identifier is not configured: the site's administrator must set "
                "LOOKUP_CONTACT_EMAIL (the services ask for a contact address). Enter the "
                "source by hand meanwhile.",
                code="not_configured",
            )
        self.budget = settings.LOOKUP_TIMEOUT_SECONDS if budget is None else budget
        self.deadline = time.monotonic() + self.budget
        # Imported by a lookup, not by every worker at start (findings/citation_libraries.py
        # says why).
        import httpx

        self.client = httpx.Client(
            headers={"User-Agent": user_agent()},
            follow_redirects=True,
            # Never the machine's proxy settings or .netrc: only the configured services.
            trust_env=False,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def get(
        self,
        service: Service,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        not_found: tuple[int, ...] = (404,),
    ) -> httpx.Response | None:
        """GET ``path`` from ``service``; None when the service answers that it does not
        know the record (a status in ``not_found``). Raises ``ServiceError`` otherwise."""
        import httpx

        service.limiter.wait(deadline=self.deadline, service=service.name)
        left = self.remaining()
        if left <= 0.05:
            raise ServiceError(service.name, self._slow(service))
        try:
            response = self.client.get(
                service.base_url + path,
                params=params,
                timeout=httpx.Timeout(left, connect=min(left, 3.0)),
            )
        except httpx.TimeoutException:
            raise ServiceError(service.name, self._slow(service)) from None
        except (httpx.HTTPError, OSError):
            raise ServiceError(
                service.name,
                f"{service.name} could not be reached (the network or the service is down).",
            ) from None
        if response.status_code in not_found:
            return None
        if response.status_code == 429:
            raise ServiceError(
                service.name,
                f"{service.name} asked us to slow down (too many requests). Try again in a minute.",
            )
        if response.status_code >= 400:
            raise ServiceError(
                service.name,
                f"{service.name} answered with an error (HTTP {response.status_code}).",
            )
        return response

    def _slow(self, service: Service) -> str:
        return f"{service.name} did not answer within {self.budget:g} seconds."

    @staticmethod
    def json(service: Service, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ServiceError(service.name, garbled(service)) from None


def garbled(service: Service) -> str:
    return f"{service.name} answered with something that is not a record we can read."
