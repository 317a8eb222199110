"""Fill a source from its identifier (issue 11): a DOI, PMID, PMCID or ClinicalTrials.gov
number, or a link to one, looked up at Crossref, PubMed (NCBI E-utilities), Europe PMC
or ClinicalTrials.gov.

``source_lookup(identifier)`` returns what was found as Source field values, with the
service each value came from and what could not be checked; it never saves anything.
The admin's "Look up" button, the API's ``sources/lookup`` action and the
``lookup_source`` command all call it; a curator checks the result before it is saved.

Which service answers what:

- a DOI: Crossref (bibliographic fields, publication type, notices such as
  retractions), then Europe PMC for the PMID, PMCID and abstract;
- a PMID: PubMed (everything, the DOI and PMCID included), then Crossref for the
  notices when PubMed gives a DOI;
- a PMCID: Europe PMC, then Crossref for the notices when it gives a DOI;
- an NCT number: ClinicalTrials.gov.

When the first service fails or does not know the identifier, the others are asked
for the whole record; a service that fails after the record was found leaves its
fields empty and says so (``LookupResult.problems``).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import slugify

from findings.fields import (
    DOI_RE,
    NCT_RE,
    PMCID_RE,
    PMID_RE,
    normalise_doi,
    normalise_nct,
    normalise_pmcid,
    normalise_pmid,
)
from findings.lookup import crossref, ctgov, europepmc, pubmed
from findings.lookup.http import LookupFailed, ServiceError, Session
from findings.lookup.record import Found, Notice, notice_fields, notices_sorted

__all__ = ["LookupFailed", "LookupResult", "identifier_parse", "source_lookup"]

KIND_LABELS = {
    "doi": "DOI",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "nct_id": "ClinicalTrials.gov number",
}
# Europe PMC's abstract links (europepmc.org/article/MED/123, /PMC/PMC123) pasted whole.
EUROPEPMC_LINK = re.compile(
    r"^https?://(?:www\.)?europepmc\.org/(?:article|abstract)/(?P<src>med|pmc)/(?P<id>pmc)?"
    r"(?P<num>\d+)/?(?:[?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Identifier:
    kind: str  # doi, pmid, pmcid, nct_id: the Source field it fills
    value: str

    @property
    def label(self) -> str:
        return f"{KIND_LABELS[self.kind]} {self.value}"


def identifier_parse(raw: str) -> Identifier:
    """The identifier in what a curator pasted (reusing the Source fields' normalisers),
    or ``LookupFailed`` (code ``invalid``) saying what is accepted."""
    text = (raw or "").strip()
    link = EUROPEPMC_LINK.match(text)
    if link:
        if link["src"].lower() == "pmc":
            return Identifier("pmcid", f"PMC{link['num']}")
        return Identifier("pmid", link["num"])
    candidates = (
        ("doi", normalise_doi(text), DOI_RE),
        ("pmcid", normalise_pmcid(text), PMCID_RE),
        ("nct_id", normalise_nct(text), NCT_RE),
        ("pmid", normalise_pmid(text), PMID_RE),
    )
    for kind, value, pattern in candidates:
        if text and pattern.match(value):
            return Identifier(kind, value)
    shown = text if len(text) <= 80 else text[:79] + "…"
    raise LookupFailed(
        f"“{shown}” is not an identifier we can look up. Paste a DOI (10.1186/1479-5876-9-81), "
        "a PMID (34572574), a PMCID (PMC170136), a ClinicalTrials.gov number (NCT02965768), "
        "or a doi.org, PubMed, PMC or clinicaltrials.gov link."
        if text
        else "Paste a DOI, PMID, PMCID or ClinicalTrials.gov number (or a link to one) to "
        "look it up.",
        code="invalid",
    )


@dataclass
class LookupResult:
    """What a lookup found. ``fields`` are Source field values (never saved here);
    ``sources`` names the service each field came from; ``problems`` says what could not
    be filled or checked, and why; ``notices`` are the publisher's notices found."""

    identifier: Identifier
    fields: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    notices_checked: bool = False
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every service asked answered: nothing is missing for want of an answer."""
        return not self.problems

    def filled_from(self) -> list[tuple[str, list[str]]]:
        """[(service, [field names])], in the order the services were asked."""
        by_service: dict[str, list[str]] = {}
        for name, service in self.sources.items():
            by_service.setdefault(service, []).append(name)
        return list(by_service.items())

    def summary(self, labels: dict[str, str] | None = None) -> str:
        """'Filled from Crossref (title, authors …) and Europe PMC (PMID …).'"""
        labels = labels or {}
        parts = [
            f"{service} ({', '.join(labels.get(n, n) for n in names)})"
            for service, names in self.filled_from()
        ]
        if not parts:
            return "Nothing was filled."
        return "Filled from " + " and ".join(parts) + "."


def source_lookup(raw: str, *, today: datetime.date | None = None) -> LookupResult:
    """Look ``raw`` up (see the module's docstring). Raises ``LookupFailed`` when
    nothing usable was found, with a message naming each service and what it said."""
    identifier = identifier_parse(raw)
    today = today or datetime.date.today()
    result = LookupResult(identifier=identifier)
    with Session() as session:
        primary = _primary(session, identifier, result)
        _merge(result, primary)
        _secondary(session, identifier, result)
    if result.notices_checked or result.notices:
        values = notice_fields(result.notices, checked_on=today if result.notices_checked else None)
        result.fields.update(values)
        by = "Crossref" if result.notices_checked else "PubMed (NCBI E-utilities)"
        for name in values:
            result.sources[name] = by
    result.fields.setdefault("key", source_key(result.fields))
    return result


# Who is asked first for each kind of identifier, and who after it when it fails.
PRIMARY = {
    "doi": ("crossref", "europepmc"),
    "pmid": ("pubmed", "europepmc"),
    "pmcid": ("europepmc",),
    "nct_id": ("ctgov",),
}


def _ask(session: Session, name: str, identifier: Identifier) -> Found | None:
    kind, value = identifier.kind, identifier.value
    if name == "crossref":
        return crossref.fetch(session, value)
    if name == "pubmed":
        return pubmed.fetch(session, value)
    if name == "europepmc":
        return europepmc.fetch(session, kind, value)
    return ctgov.fetch(session, value)


SERVICE_NAMES = {
    "crossref": "Crossref",
    "pubmed": "PubMed (NCBI E-utilities)",
    "europepmc": "Europe PMC",
    "ctgov": "ClinicalTrials.gov",
}


def _primary(session: Session, identifier: Identifier, result: LookupResult) -> Found:
    said = []
    unavailable = False
    for name in PRIMARY[identifier.kind]:
        result.asked.append(name)
        try:
            found = _ask(session, name, identifier)
        except ServiceError as exc:
            said.append(exc.message)
            unavailable = True
            continue
        if found is not None:
            # What the services asked before this one said stays visible.
            result.problems.extend(said)
            return found
        said.append(f"{SERVICE_NAMES[name]} does not know the {identifier.label}.")
    raise LookupFailed(
        " ".join(said) + " Nothing was filled: check the identifier, or enter the source by hand.",
        code="unavailable" if unavailable else "not_found",
    )


def _merge(result: LookupResult, found: Found) -> None:
    """Add ``found``'s values for the fields still empty; identifiers cross-fill."""
    for name, value in found.fields.items():
        if value in ("", None) or result.fields.get(name) not in ("", None):
            continue
        result.fields[name] = value
        result.sources[name] = found.service
    for notice in found.notices:
        if notice not in result.notices:
            result.notices.append(notice)
    result.notices = notices_sorted(result.notices)
    result.notices_checked = result.notices_checked or found.notices_checked
    result.warnings.extend(found.warnings)


def _secondary(session: Session, identifier: Identifier, result: LookupResult) -> None:
    """The other services, for what the first one does not give: cross-identifiers,
    abstract, and Crossref's notices."""
    doi = result.fields.get("doi", "")
    wanted = []
    if identifier.kind != "nct_id":
        if doi:
            wanted.append(("crossref", Identifier("doi", doi), "retractions and corrections"))
        if (
            not result.fields.get("pmid")
            or not result.fields.get("pmcid")
            or not result.fields.get("abstract")
        ):
            wanted.append(("europepmc", identifier, "PMID, PMCID and abstract"))
    for name, ask_for, what in wanted:
        if name in result.asked:
            continue
        result.asked.append(name)
        try:
            found = _ask(session, name, ask_for)
        except ServiceError as exc:
            result.problems.append(f"{exc.message} Not checked: {what}.")
            continue
        if found is None:
            if name == "crossref":
                result.problems.append(
                    f"Crossref does not know the DOI {doi}: retractions and corrections were "
                    "not checked."
                )
            continue
        _merge(result, found)


def source_key(fields: dict[str, Any]) -> str:
    """A citation key in the seed's style: first author's family name, year, first
    word of the title that says something (``lutz2021_evaluation``), or the registry
    number for a trial. Unique among sources (a number is added when taken)."""
    from findings.models import Source

    if fields.get("nct_id"):
        base = slugify(fields["nct_id"]).replace("-", "")
    else:
        authors = fields.get("authors", "")
        first = authors.split(",")[0].strip()
        # "Lena Lutz" (Crossref) and "Lutz L" (PubMed): the family name either way.
        words = first.split()
        family = ""
        if words:
            family = words[0] if len(words) > 1 and words[-1].isupper() else words[-1]
        title_words = [w for w in re.findall(r"[A-Za-z]+", fields.get("title", "")) if len(w) > 3]
        base = "_".join(
            part
            for part in (
                slugify(family).replace("-", "") + str(fields.get("year") or ""),
                slugify(title_words[0]) if title_words else "",
            )
            if part
        )
    base = (base or "source")[:70]
    key, number = base, 2
    while Source.objects.filter(key=key).exists():
        key, number = f"{base}_{number}", number + 1
    return key
