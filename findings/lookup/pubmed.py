"""PubMed through NCBI E-utilities: ``efetch.fcgi?db=pubmed&id=…&retmode=xml``.

One request gives the whole citation in PubMed's XML (the PubmedArticleSet DTD):
title, authors, journal, dates, abstract, publication types, the article's other
identifiers (``PubmedData/ArticleIdList``: doi, pmc) and PubMed's own links to
retraction, concern and erratum notices (``CommentsCorrections`` with ``RefType``
``RetractionIn``, ``ExpressionOfConcernIn``, ``ErratumIn`` …). An unknown PMID
gives a set with no article in it.
"""

from __future__ import annotations

import datetime
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from findings.fields import DOI_RE, PMCID_RE, normalise_doi
from findings.lookup.http import ServiceError, Session, garbled, ncbi
from findings.lookup.record import Found, Notice, plain
from findings.models import NoticeKind, SourceKind

NOTICE_REFS = {
    "RetractionIn": (NoticeKind.RETRACTION, "Retraction"),
    "PartialRetractionIn": (NoticeKind.PARTIAL_RETRACTION, "Partial retraction"),
    "ExpressionOfConcernIn": (NoticeKind.EXPRESSION_OF_CONCERN, "Expression of concern"),
    "ErratumIn": (NoticeKind.CORRECTION, "Erratum"),
}
MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
REVIEW_TYPES = {"Review", "Systematic Review", "Meta-Analysis", "Scoping Review"}


def fetch(session: Session, pmid: str) -> Found | None:
    """The PubMed record with this PMID, or None when PubMed does not know it."""
    from django.conf import settings

    service = ncbi()
    params: dict[str, Any] = {"db": "pubmed", "id": pmid, "retmode": "xml", "tool": "mecfs-kb"}
    params["email"] = settings.LOOKUP_CONTACT_EMAIL
    if settings.NCBI_API_KEY:
        params["api_key"] = settings.NCBI_API_KEY
    # An unknown id is answered 200 with an empty set (or, from some mirrors, 400/404).
    response = session.get(service, "/efetch.fcgi", params=params, not_found=(400, 404))
    if response is None:
        return None
    return parse(response.content, pmid=pmid)


def parse(content: bytes, *, pmid: str) -> Found | None:
    service = ncbi()
    try:
        root = ElementTree.fromstring(content)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise ServiceError(service.name, garbled(service)) from None
    if root.tag not in ("PubmedArticleSet", "eFetchResult", "ERROR"):
        raise ServiceError(service.name, garbled(service))
    for article in root.iter("PubmedArticle"):
        if _text(article.find("MedlineCitation/PMID")) == pmid:
            return _found(article, pmid)
    return None


def _found(article, pmid: str) -> Found:
    service = ncbi()
    found = Found(service=service.name)
    values = found.fields
    citation = article.find("MedlineCitation/Article")
    if citation is None:
        raise ServiceError(service.name, garbled(service))
    values["pmid"] = pmid
    title = _text(citation.find("ArticleTitle"))
    if not title:
        raise ServiceError(service.name, garbled(service))
    values["title"] = title
    authors = []
    for author in citation.findall("AuthorList/Author"):
        collective = _text(author.find("CollectiveName"))
        name = " ".join(
            part
            for part in (_text(author.find("LastName")), _text(author.find("Initials")))
            if part
        )
        if name or collective:
            authors.append(name or collective)
    if authors:
        values["authors"] = ", ".join(authors)
    journal = _text(citation.find("Journal/Title"))
    if journal:
        values["container"] = journal
    year, date = _pub_date(citation.find("Journal/JournalIssue/PubDate"))
    if year:
        values["year"] = year
    if date:
        values["published_on"] = date
    paragraphs = []
    for part in citation.findall("Abstract/AbstractText"):
        text = _text(part)
        label = part.get("Label")
        if text:
            paragraphs.append(f"{label}: {text}" if label else text)
    if paragraphs:
        values["abstract"] = "\n\n".join(paragraphs)
    types = [_text(t) for t in citation.findall("PublicationTypeList/PublicationType")]
    types = [t for t in types if t]
    if types:
        values["publication_type"] = "; ".join(types)
        values["kind"] = (
            SourceKind.REVIEW if REVIEW_TYPES.intersection(types) else SourceKind.JOURNAL_ARTICLE
        )
    for article_id in article.findall("PubmedData/ArticleIdList/ArticleId"):
        id_type, value = article_id.get("IdType"), _text(article_id)
        if id_type == "doi" and DOI_RE.match(normalise_doi(value)):
            values["doi"] = normalise_doi(value)
        elif id_type == "pmc" and PMCID_RE.match(value.upper()):
            values["pmcid"] = value.upper()
    for comment in article.findall("MedlineCitation/CommentsCorrectionsList/CommentsCorrections"):
        kind_label = NOTICE_REFS.get(comment.get("RefType", ""))
        if kind_label is None:
            continue
        notice_pmid = _text(comment.find("PMID"))
        found.notices.append(
            Notice(
                kind=kind_label[0],
                label=f"{kind_label[1]} ({_text(comment.find('RefSource'))})".replace(" ()", ""),
                url=f"https://pubmed.ncbi.nlm.nih.gov/{notice_pmid}/" if notice_pmid else "",
                reported_by="PubMed",
            )
        )
    return found


def _text(element) -> str:
    return plain("".join(element.itertext())) if element is not None else ""


def _pub_date(element) -> tuple[int | None, datetime.date | None]:
    if element is None:
        return None, None
    year_text = _text(element.find("Year")) or _text(element.find("MedlineDate"))[:4]
    if not year_text.isdigit():
        return None, None
    year = int(year_text)
    month_text = _text(element.find("Month")).lower()
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text[:3])
    day_text = _text(element.find("Day"))
    if month and day_text.isdigit():
        try:
            return year, datetime.date(year, month, int(day_text))
        except ValueError:
            return year, None
    return year, None
