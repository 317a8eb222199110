"""Europe PMC's REST search: ``GET /search?query=…&resultType=core&format=json``
(https://europepmc.org/RestfulWebService). A fielded query finds one article by an
identifier (``DOI:"…"``, ``PMCID:PMC…``, ``EXT_ID:… AND SRC:MED``); the ``core``
result gives its PMID, PMCID and DOI (the cross-identifiers), title, authors, journal,
year, abstract and publication types. No match gives ``hitCount`` 0.
"""

from __future__ import annotations

from typing import Any

from findings.fields import DOI_RE, PMCID_RE, PMID_RE, normalise_doi
from findings.lookup.http import EUROPEPMC, ServiceError, Session, garbled
from findings.lookup.record import Found, iso_date, plain, plain_paragraphs
from findings.models import SourceKind

REVIEW_TYPES = {"review", "systematic-review", "Review", "Systematic Review", "Meta-Analysis"}


def query_for(kind: str, value: str) -> str:
    if kind == "doi":
        return f'DOI:"{value}"'
    if kind == "pmcid":
        return f"PMCID:{value}"
    return f"EXT_ID:{value} AND SRC:MED"


def fetch(session: Session, kind: str, value: str) -> Found | None:
    params = {"query": query_for(kind, value), "resultType": "core", "format": "json"}
    params["pageSize"] = 2
    response = session.get(EUROPEPMC, "/search", params=params)
    if response is None:
        return None
    return parse(session.json(EUROPEPMC, response), kind=kind, value=value)


def parse(data: Any, *, kind: str, value: str) -> Found | None:
    try:
        hits = int(data["hitCount"])
        results = data["resultList"]["result"]
    except (TypeError, KeyError, ValueError):
        raise ServiceError(EUROPEPMC.name, garbled(EUROPEPMC)) from None
    if not isinstance(results, list):
        raise ServiceError(EUROPEPMC.name, garbled(EUROPEPMC))
    # The search is by identifier: only a result that carries that identifier counts.
    matching = [r for r in results if isinstance(r, dict) and _carries(r, kind, value)]
    if hits == 0 or not matching:
        return None
    result = matching[0]
    found = Found(service=EUROPEPMC.name)
    values = found.fields
    pmid, pmcid = str(result.get("pmid") or ""), str(result.get("pmcid") or "").upper()
    doi = normalise_doi(str(result.get("doi") or ""))
    if PMID_RE.match(pmid):
        values["pmid"] = pmid
    if PMCID_RE.match(pmcid):
        values["pmcid"] = pmcid
    if DOI_RE.match(doi):
        values["doi"] = doi
    title = plain(result.get("title"))
    if title:
        values["title"] = title
    authors = [
        plain(a.get("fullName"))
        for a in (result.get("authorList") or {}).get("author", [])
        if isinstance(a, dict) and a.get("fullName")
    ]
    if authors:
        values["authors"] = ", ".join(authors)
    elif result.get("authorString"):
        values["authors"] = plain(result["authorString"])
    journal = ((result.get("journalInfo") or {}).get("journal") or {}).get("title")
    if journal:
        values["container"] = plain(journal)
    year = str(result.get("pubYear") or "")
    if year.isdigit() and 1800 <= int(year) <= 2100:
        values["year"] = int(year)
    published = iso_date((result.get("journalInfo") or {}).get("printPublicationDate"))
    if published and values.get("year") == published.year and published.day != 1:
        # Europe PMC writes a month-only date as the 1st: only a real day is a date.
        values["published_on"] = published
    abstract = plain_paragraphs(result.get("abstractText"))
    if abstract:
        values["abstract"] = abstract
    types = [
        plain(t) for t in (result.get("pubTypeList") or {}).get("pubType", []) if isinstance(t, str)
    ]
    if types:
        values["publication_type"] = "; ".join(types)
        values["kind"] = (
            SourceKind.REVIEW if REVIEW_TYPES.intersection(types) else SourceKind.JOURNAL_ARTICLE
        )
    return found


def _carries(result: dict, kind: str, value: str) -> bool:
    if kind == "doi":
        return normalise_doi(str(result.get("doi") or "")) == value
    if kind == "pmcid":
        return str(result.get("pmcid") or "").upper() == value
    return str(result.get("pmid") or "") == value
