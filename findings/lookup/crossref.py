"""Crossref's REST API: ``GET /works/{doi}`` (https://api.crossref.org/swagger-ui).

The work's ``message`` gives the bibliographic fields and, in ``updated-by``, the
notices that update it: ``{"DOI", "type", "label", "source", "updated": {"date-parts"},
"record-id"}``, where ``source`` is ``publisher`` (Crossmark) or ``retraction-watch``
(Retraction Watch's database, folded into Crossref's metadata). ``update-to`` says the
work is itself a notice about another DOI.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from findings.lookup.http import CROSSREF, ServiceError, Session, garbled
from findings.lookup.record import Found, Notice, date_from_parts, plain, plain_paragraphs
from findings.models import NoticeKind, SourceKind

# Crossmark's update types (Crossref schema), by the notice kind we keep. New editions,
# new versions and the like are not notices about the reliability of the work.
UPDATE_KINDS = {
    "retraction": NoticeKind.RETRACTION,
    "withdrawal": NoticeKind.RETRACTION,
    "removal": NoticeKind.RETRACTION,
    "partial_retraction": NoticeKind.PARTIAL_RETRACTION,
    "expression_of_concern": NoticeKind.EXPRESSION_OF_CONCERN,
    "correction": NoticeKind.CORRECTION,
    "corrigendum": NoticeKind.CORRECTION,
    "erratum": NoticeKind.CORRECTION,
    "addendum": NoticeKind.CORRECTION,
    "clarification": NoticeKind.CORRECTION,
}
REPORTED_BY = {"publisher": "the publisher", "retraction-watch": "Retraction Watch"}

KINDS = {
    "posted-content": SourceKind.PREPRINT,
    "book": SourceKind.BOOK,
    "monograph": SourceKind.BOOK,
    "edited-book": SourceKind.BOOK,
    "reference-book": SourceKind.BOOK,
    "book-chapter": SourceKind.BOOK,
}


def fetch(session: Session, doi: str) -> Found | None:
    """The work with this DOI, or None when Crossref does not know it."""
    response = session.get(CROSSREF, f"/works/{quote(doi, safe='/()')}")
    if response is None:
        return None
    data = session.json(CROSSREF, response)
    return parse(data, doi=doi)


def parse(data: Any, *, doi: str) -> Found:
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict) or not _first(message.get("title")):
        raise ServiceError(CROSSREF.name, garbled(CROSSREF))
    found = Found(service=CROSSREF.name, notices_checked=True)
    values = found.fields
    values["doi"] = doi
    values["title"] = plain(_first(message.get("title")))
    authors = [_author(a) for a in message.get("author") or [] if isinstance(a, dict)]
    if any(authors):
        values["authors"] = ", ".join(a for a in authors if a)
    container = plain(_first(message.get("container-title")))
    if container:
        values["container"] = container
    for key in ("published-print", "published-online", "issued"):
        year, date = date_from_parts((message.get(key) or {}).get("date-parts"))
        if year:
            values["year"] = year
            if date:
                values["published_on"] = date
            break
    work_type = message.get("type")
    if isinstance(work_type, str) and work_type:
        values["publication_type"] = work_type
        values["kind"] = KINDS.get(work_type, SourceKind.JOURNAL_ARTICLE)
    abstract = plain_paragraphs(message.get("abstract"))
    if abstract:
        values["abstract"] = abstract
    found.notices = [n for n in map(_notice, message.get("updated-by") or []) if n]
    for update in message.get("update-to") or []:
        if isinstance(update, dict) and update.get("DOI"):
            label = update.get("label") or update.get("type") or "notice"
            found.warnings.append(
                f"Crossref says this DOI is itself a notice ({label}) about "
                f"https://doi.org/{update['DOI']}: you may want that paper instead."
            )
    return found


def _first(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return ""


def _author(author: dict) -> str:
    if author.get("name"):  # an organisation, a consortium
        return plain(author["name"])
    return plain(" ".join(str(author.get(k) or "") for k in ("given", "family")))


def _notice(update: Any) -> Notice | None:
    if not isinstance(update, dict):
        return None
    kind = UPDATE_KINDS.get(str(update.get("type", "")).lower())
    if kind is None:
        return None
    _, date = date_from_parts((update.get("updated") or {}).get("date-parts"))
    doi = str(update.get("DOI") or "").lower()
    return Notice(
        kind=kind,
        label=str(update.get("label") or NoticeKind(kind).label),
        doi=doi,
        date=date,
        reported_by=REPORTED_BY.get(str(update.get("source") or ""), ""),
    )
