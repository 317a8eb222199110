"""The recorded answers of the lookup services (tests/recordings/), served by respx.

Each recording is written in the service's documented response format from a record
of shared/data/references.json (see the ``_recording`` note in each file, or the XML
comment); the one marked SYNTHETIC adds a retraction to a real paper that is not known
to be retracted, to test how retractions are handled.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
import respx
from django.conf import settings

RECORDINGS = Path(__file__).parent / "recordings"


def shared_data_dir() -> Path:
    """``$MECFS_SHARED_DATA``, else ``shared/data`` beside the repository or one of its
    parents, as tests/test_seed.py looks for it. Missing data fails, never skips."""
    override = os.environ.get("MECFS_SHARED_DATA")
    repo = Path(__file__).resolve().parent.parent
    candidates = [Path(override)] if override else [p / "shared" / "data" for p in repo.parents]
    for folder in candidates:
        if (folder / "references.json").is_file():
            return folder
    pytest.fail(f"shared data not found (looked for references.json in {candidates})")


def reference(key: str) -> dict:
    """A record of references.json, where every expected value in these tests comes from."""
    records = json.loads((shared_data_dir() / "references.json").read_text())
    return next(r for r in records if r["key"] == key)


def recording(name: str) -> bytes:
    return (RECORDINGS / name).read_bytes()


def recorded_json(name: str) -> dict:
    return json.loads(recording(name))


class Services:
    """respx routes for the four services, at the base URLs the settings give (a mirror
    in these tests, so that the configured URL is shown to be the one used)."""

    def __init__(self, router: respx.Router):
        self.router = router

    def _url(self, setting: str, path: str) -> str:
        return getattr(settings, setting).rstrip("/") + path

    def crossref(self, doi: str, *, name: str | None = None, **answer):
        route = self.router.get(self._url("CROSSREF_API_URL", f"/works/{doi}"))
        return self._answer(route, name, default_status=404, **answer)

    def europepmc(self, query: str, *, name: str | None = "europepmc/no_match.json", **answer):
        route = self.router.get(self._url("EUROPEPMC_API_URL", "/search"), params={"query": query})
        return self._answer(route, name, **answer)

    def pubmed(self, pmid: str, *, name: str | None = "pubmed/no_match.xml", **answer):
        route = self.router.get(
            self._url("NCBI_EUTILS_URL", "/efetch.fcgi"), params={"db": "pubmed", "id": pmid}
        )
        return self._answer(route, name, content_type="text/xml", **answer)

    def ctgov(self, nct: str, *, name: str | None = None, **answer):
        route = self.router.get(self._url("CTGOV_API_URL", f"/studies/{nct}"))
        return self._answer(route, name, default_status=404, **answer)

    @staticmethod
    def _answer(
        route,
        name,
        *,
        status: int | None = None,
        body: bytes | str | None = None,
        error: Exception | None = None,
        content_type: str = "application/json",
        default_status: int = 200,
    ):
        if error is not None:
            return route.mock(side_effect=error)
        if body is None and name is not None:
            body = recording(name)
            status = status or 200
        if body is None:
            body = b"Resource not found."
            content_type = "text/plain"
        if isinstance(body, str):
            body = body.encode()
        return route.mock(
            return_value=httpx.Response(
                status or default_status, content=body, headers={"Content-Type": content_type}
            )
        )


MIRRORS = {
    "CROSSREF_API_URL": "https://crossref.mirror.test",
    "NCBI_EUTILS_URL": "https://eutils.mirror.test/entrez/eutils",
    "EUROPEPMC_API_URL": "https://europepmc.mirror.test/rest",
    "CTGOV_API_URL": "https://ctgov.mirror.test/api/v2",
}

# What "service down" and "timeout" look like to httpx.
DOWN = httpx.ConnectError("[Errno 111] Connection refused")
SLOW = httpx.ReadTimeout("The read operation timed out")


@pytest.fixture
def services(settings, monkeypatch):
    """Every request the lookup makes is answered from a recording (or an error); any
    request not routed fails the test (respx's assert_all_mocked). Rate limits never
    make a test wait."""
    from findings.lookup import http

    for name, url in MIRRORS.items():
        setattr(settings, name, url)
    settings.LOOKUP_CONTACT_EMAIL = "curators@example.org"
    settings.NCBI_API_KEY = ""
    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    for limiter in (http.CROSSREF.limiter, http.EUROPEPMC.limiter, http.CTGOV.limiter):
        monkeypatch.setattr(limiter, "_next", 0.0)
    for limiter in http._ncbi_limiters.values():
        monkeypatch.setattr(limiter, "_next", 0.0)
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield Services(router)
