"""What a service said about a document, as Source field values."""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import strip_tags

from findings.models import HELD_NOTICES, NoticeKind


@dataclass(frozen=True)
class Notice:
    """A publisher's notice about the document (retraction, correction …)."""

    kind: str  # a NoticeKind value
    label: str  # as the service names it ("Retraction", "Expression of concern")
    doi: str = ""
    url: str = ""
    date: datetime.date | None = None
    reported_by: str = ""  # "the publisher", "Retraction Watch", "PubMed"

    @property
    def link(self) -> str:
        return self.url or (f"https://doi.org/{self.doi}" if self.doi else "")

    def sentence(self) -> str:
        when = f" of {self.date.isoformat()}" if self.date else ""
        by = f", reported by {self.reported_by}" if self.reported_by else ""
        where = f": {self.link}" if self.link else ""
        return f"{self.label}{when}{by}{where}"


# Most serious first: the source carries the most serious notice found.
SEVERITY = [
    NoticeKind.RETRACTION,
    NoticeKind.PARTIAL_RETRACTION,
    NoticeKind.EXPRESSION_OF_CONCERN,
    NoticeKind.CORRECTION,
]


def most_serious(notices: list[Notice]) -> Notice | None:
    ranked = sorted(notices, key=lambda n: SEVERITY.index(n.kind))
    return ranked[0] if ranked else None


@dataclass
class Found:
    """One service's answer: Source field values (only those it knows) and notices."""

    service: str
    fields: dict[str, Any] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    # True when this service's update metadata was read (Crossref): "no notice" then
    # means none is known, not that nobody looked.
    notices_checked: bool = False
    warnings: list[str] = field(default_factory=list)


def notice_fields(notices: list[Notice], *, checked_on: datetime.date | None) -> dict[str, Any]:
    """The Source fields for ``notices`` (the most serious one)."""
    top = most_serious(notices)
    values: dict[str, Any] = {}
    if checked_on is not None:
        values["notices_checked_on"] = checked_on
    if top is None:
        return values
    values.update(
        notice_kind=top.kind,
        notice_doi=top.doi,
        notice_url=top.url,
        notice_date=top.date,
        retracted=top.kind == NoticeKind.RETRACTION,
        retraction_note="; ".join(n.sentence() for n in notices_sorted(notices)) + ".",
    )
    return values


def notices_sorted(notices: list[Notice]) -> list[Notice]:
    return sorted(notices, key=lambda n: (SEVERITY.index(n.kind), n.date or datetime.date.min))


def is_held(kind: str) -> bool:
    return kind in HELD_NOTICES


_SPACE = re.compile(r"\s+")


def plain(text: Any) -> str:
    """Text from a service without markup (Crossref's JATS, Europe PMC's HTML), with
    entities decoded and runs of white space made one space."""
    if not isinstance(text, str):
        return ""
    return _SPACE.sub(" ", html.unescape(strip_tags(text))).strip()


def plain_paragraphs(text: Any) -> str:
    """Like ``plain`` but keeps paragraph breaks (abstracts)."""
    if not isinstance(text, str):
        return ""
    text = re.sub(r"</(?:jats:)?(?:p|sec|title|h\d)>", "\n\n", text)
    parts = [plain(part) for part in text.split("\n\n")]
    return "\n\n".join(part for part in parts if part)


def date_from_parts(parts: Any) -> tuple[int | None, datetime.date | None]:
    """(year, full date or None) from a ``[[year, month, day]]`` date-parts value."""
    try:
        first = parts[0]
        year = int(first[0])
    except (TypeError, ValueError, IndexError, KeyError):
        return None, None
    if not 1800 <= year <= 2100:
        return None, None
    if len(first) >= 3:
        try:
            return year, datetime.date(year, int(first[1]), int(first[2]))
        except (TypeError, ValueError):
            return year, None
    return year, None


def iso_date(value: Any) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None
