"""Sources from a reference manager's file: BibTeX, RIS, PubMed (MEDLINE, ``.nbib``) or
CSL-JSON, read by the field's own libraries (bibtexparser 2, rispy, Biopython's
``Bio.Medline``, json), each entry judged before anything is written:

- **new**: valid, and not a source yet (nor an earlier entry of the same file);
- **duplicate**: the same DOI, PMID, PMCID or ClinicalTrials.gov number as a source (or
  an earlier entry), or a near-identical title in the same year (findings/duplicates.py);
- **invalid**: the model's own validation (``full_clean`` on an unsaved Source) refused
  it, with the reason (no title, a DOI that is not one, a title over the limit …).

A file that cannot be read as a whole (malformed, another format, not UTF-8, over the
size limit) is refused with a message saying what is wrong, and nothing is created.

``sources_import`` creates the chosen new entries as drafts through curation's
``record_create`` (never published: an editor reviews them), each with its history
naming the file and the importer. The admin page (findings/admin_import.py) and
``manage.py import_sources`` both call ``import_read``, ``import_preview`` and
``sources_import``.
"""

from __future__ import annotations

import codecs
import datetime
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from curation.services import record_create
from findings.duplicates import DuplicateMatch, Known, SourceIndex
from findings.fields import (
    NCT_PASTED_RE,
    PMCID_PASTED_RE,
    PMCID_RE,
    PMID_PASTED_RE,
    PMID_RE,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
)
from findings.models import Source, SourceKind

if TYPE_CHECKING:
    from bibtexparser.model import Entry

FORMATS = {
    "bibtex": "BibTeX",
    "ris": "RIS",
    "medline": "PubMed / MEDLINE (.nbib)",
    "csl-json": "CSL-JSON",
}
# What an entry of each format starts with, for the messages.
FORMAT_STARTS = {
    "bibtex": "@article{…",
    "ris": "TY  - JOUR",
    "medline": "PMID- 12345678",
    "csl-json": '[{"type": "article-journal", …}]',
}

NEW, DUPLICATE, DUPLICATE_IN_FILE, INVALID = "new", "duplicate", "duplicate_in_file", "invalid"
VERDICT_LABELS = {
    NEW: "New",
    DUPLICATE: "Duplicate",
    DUPLICATE_IN_FILE: "Duplicate within the file",
    INVALID: "Invalid",
}

# The Source fields an entry fills; everything else (status, review, verification
# note …) is the curators' to fill after import.
IMPORTED_FIELDS = (
    "kind",
    "title",
    "authors",
    "container",
    "year",
    "published_on",
    "url",
    "doi",
    "pmid",
    "pmcid",
    "nct_id",
    "publication_type",
    "abstract",
)
FIELD_LABELS = {
    "key": "Key",
    "kind": "Kind",
    "title": "Title",
    "authors": "Authors",
    "container": "Journal / site / publisher",
    "year": "Year",
    "published_on": "Date",
    "url": "URL",
    "doi": "DOI",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "nct_id": "ClinicalTrials.gov number",
    "publication_type": "Publication type",
    "abstract": "Abstract",
}


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``message`` says why, for a curator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Person:
    """One author as the file gives it: family and given names, or one literal name
    (an organisation, or a name the file did not split)."""

    family: str = ""
    given: str = ""
    literal: str = ""

    @property
    def shown(self) -> str:
        """As Source.authors lists names: ``Brenu EW`` when the given names are initials
        (as PubMed prints them), else ``Ekua W. Brenu``; an organisation as given."""
        if self.literal:
            return self.literal
        if not self.given:
            return self.family
        if _INITIALS.match(self.given.replace(" ", "")):
            return f"{self.family} {re.sub(r'[^A-Z]', '', self.given)}"
        return f"{self.given} {self.family}"

    @property
    def key_name(self) -> str:
        """The name a citation key starts with: the family name, or the last word of a
        name the file did not split."""
        name = self.family if self.given or not self.literal else self.literal
        if not self.given:
            words = name.split()
            name = words[-1] if words else ""
        return name


# "E. W.", "EW", "J.-P.": the given names are initials only.
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?)+$")
# "Brenu EW": a family name and initials, as PubMed (Vancouver) prints an author.
_VANCOUVER = re.compile(r"^(?P<family>.+?)\s+(?P<initials>[A-Z]{1,4})$")
ET_AL = "et al."


def _vancouver_person(name: str) -> Person:
    match = _VANCOUVER.match(name)
    if match:
        return Person(family=match["family"], given=match["initials"])
    return Person(literal=name)


@dataclass
class ImportEntry:
    """One entry of the file: what was read, and (after ``import_preview``) its verdict."""

    number: int  # 1-based position in the file
    origin: str  # where it is in the file, for the curator ("@article{x}, line 12")
    entry_type: str  # the file's own type: "article", "JOUR", "Journal Article" …
    fields: dict[str, Any]
    people: list[Person] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Set by import_preview:
    verdict: str = ""
    key: str = ""
    reasons: list[str] = field(default_factory=list)
    matches: list[DuplicateMatch] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(self.verdict, "")

    @property
    def title(self) -> str:
        return str(self.fields.get("title") or "")

    def shown_fields(self) -> list[tuple[str, str]]:
        """The parsed fields, as the preview lists them (empty ones left out)."""
        values = self.values or self.fields
        rows = []
        for name in ("kind", *IMPORTED_FIELDS[1:]):
            value = values.get(name)
            if value in (None, ""):
                continue
            if name == "kind":
                value = f"{SourceKind(value).label} (from “{self.entry_type}”)"
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            rows.append((FIELD_LABELS[name], str(value)))
        return rows

    def shown_fields_html(self) -> str:
        """``shown_fields`` as the preview's definition list, escaped; the abstract
        folded. Built here in one pass, not by template loops: a 5,000-entry file has
        ~50,000 fields, and template loops took seconds to render them."""
        parts = []
        if self.key:
            parts.append(format_html("<dt>Key</dt><dd><code>{}</code></dd>", self.key))
        for label, value in self.shown_fields():
            if label == FIELD_LABELS["title"]:
                continue
            if label == FIELD_LABELS["abstract"]:
                short = value if len(value) <= 90 else value[:89] + "…"
                parts.append(
                    format_html(
                        "<dt>{}</dt><dd><details><summary>{}</summary>{}</details></dd>",
                        label,
                        short,
                        value,
                    )
                )
            else:
                parts.append(format_html("<dt>{}</dt><dd>{}</dd>", label, value))
        parts.append(format_html("<dt>In the file</dt><dd>{}</dd>", self.origin))
        # Safe: every part was built by format_html, which escapes the values.
        return mark_safe("".join(parts))


@dataclass
class ImportFile:
    """A file read whole: its format, name and entries."""

    filename: str
    file_format: str
    entries: list[ImportEntry]

    @property
    def format_label(self) -> str:
        return FORMATS[self.file_format]

    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "duplicate": 0, "invalid": 0}
        for entry in self.entries:
            counts["duplicate" if entry.verdict == DUPLICATE_IN_FILE else entry.verdict] += 1
        return counts

    def counts_line(self) -> str:
        counts = self.counts()
        return ", ".join(f"{name} {number}" for name, number in counts.items())


# ---------------------------------------------------------------------------
# Reading the file: size, encoding, format
# ---------------------------------------------------------------------------


def max_bytes() -> int:
    return settings.SOURCE_IMPORT_MAX_MB * 1024 * 1024


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise ImportFileError(
            f"The file is {size / 1024 / 1024:.1f} MB; files of at most "
            f"{settings.SOURCE_IMPORT_MAX_MB} MB are imported (the setting "
            "SOURCE_IMPORT_MAX_MB). Split it into smaller files, or ask the site's "
            "administrator to raise the limit. Nothing was imported."
        )


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), nothing else."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(
            "The file is UTF-16 text, not UTF-8. Export it again as UTF-8 (reference "
            "managers offer it as the character encoding, or 'Unicode (UTF-8)'). "
            "Nothing was imported."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"The file is not UTF-8 text: the byte 0x{data[exc.start]:02X} on line {line} "
            "is not UTF-8 (the file was probably saved as Latin-1 or Windows-1252, or is "
            "not a text file). Export it again as UTF-8. Nothing was imported."
        ) from None
    if "\x00" in text:
        raise ImportFileError(
            "The file contains NUL characters: it is not a text file. Nothing was imported."
        )
    return text


_LOOKS_LIKE = (
    ("medline", re.compile(r"^PMID-\s*\d", re.MULTILINE)),
    ("ris", re.compile(r"^TY  -", re.MULTILINE)),
    ("bibtex", re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)),
)


def guess_format(text: str) -> str | None:
    """Which format the text looks like, from what its entries start with."""
    if text.lstrip()[:1] in ("[", "{"):
        return "csl-json"
    for name, pattern in _LOOKS_LIKE:
        if pattern.search(text):
            return name
    return None


def import_read(data: bytes, *, filename: str, file_format: str | None = None) -> ImportFile:
    """Read ``data`` (the file's bytes) as ``file_format``, or the format it looks like.
    Raises ImportFileError, with the reason, for a file that cannot be imported."""
    check_size(len(data))
    text = decode(data)
    guessed = guess_format(text)
    if file_format is None:
        if guessed is None:
            raise ImportFileError(
                "The file's format could not be told from its content: it does not look "
                "like " + _starts_list() + ". Nothing was imported."
            )
        file_format = guessed
    elif file_format not in FORMATS:
        raise ImportFileError(
            f"“{file_format}” is not a format this import reads: " + ", ".join(FORMATS) + "."
        )
    hint = ""
    if guessed is not None and guessed != file_format:
        hint = (
            f" It looks like a {FORMATS[guessed]} file: choose that format, or let the "
            "format be guessed."
        )
    try:
        entries = PARSERS[file_format](text)
    except ImportFileError as exc:
        raise ImportFileError(f"{exc.message}{hint} Nothing was imported.") from None
    if not entries:
        raise ImportFileError(
            f"No {FORMATS[file_format]} entries were found in {filename} (an entry starts "
            f"like {FORMAT_STARTS[file_format]}).{hint} Nothing was imported."
        )
    return ImportFile(filename=filename, file_format=file_format, entries=entries)


def _starts_list() -> str:
    return ", ".join(f"{FORMATS[name]} ({start})" for name, start in FORMAT_STARTS.items())


# ---------------------------------------------------------------------------
# The four formats
# ---------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def _clean(value: Any) -> str:
    """One line of text: a file's line wrapping is not part of a title or an abstract."""
    return _SPACES.sub(" ", str(value or "")).strip()


def _year(text: str, problems: list[str]) -> int | None:
    text = _clean(text)
    if not text:
        return None
    match = re.match(r"^(\d{4})(?!\d)", text)
    if match is None:
        problems.append(f"Year: “{text}” is not a year.")
        return None
    return int(match[1])


def _date(year: str, month: str, day: str) -> datetime.date | None:
    try:
        return datetime.date(int(year), int(month), int(day))
    except (TypeError, ValueError):
        return None


def _identifiers_from_url(url: str, fields: dict[str, Any]) -> None:
    """A doi.org, PubMed, PubMed Central or ClinicalTrials.gov link is that identifier,
    when the entry does not give it otherwise."""
    if not url:
        return
    if not fields.get("doi") and re.match(r"^https?://(dx\.)?doi\.org/", url, re.I):
        fields["doi"] = normalise_doi(url)
    if not fields.get("pmid") and (match := PMID_PASTED_RE.match(url)):
        fields["pmid"] = match["id"]
    if not fields.get("pmcid") and (match := PMCID_PASTED_RE.match(url)):
        fields["pmcid"] = match["id"].upper()
    if not fields.get("nct_id") and url.lower().startswith("http"):
        match = NCT_PASTED_RE.match(url)
        if match:
            fields["nct_id"] = match["id"].upper()


def _kind(mapped: str | None, fields: dict[str, Any]) -> str:
    """The kind the entry's type says, refined by its publication type (PubMed's
    "Review", "Preprint"); a type the maps do not know is a web article when it has
    only a link, else a journal article (the preview shows the kind and the type)."""
    publication_type = str(fields.get("publication_type") or "").lower()
    if mapped in (None, SourceKind.JOURNAL_ARTICLE):
        if "preprint" in publication_type:
            return SourceKind.PREPRINT
        if re.search(r"\breview\b", publication_type):
            return SourceKind.REVIEW
    if mapped is None:
        if fields.get("nct_id") and not (fields.get("doi") or fields.get("pmid")):
            return SourceKind.TRIAL_REGISTRY
        if fields.get("url") and not (fields.get("doi") or fields.get("pmid")):
            return SourceKind.WEB_ARTICLE
        return SourceKind.JOURNAL_ARTICLE
    return mapped


# --- BibTeX (bibtexparser 2) -----------------------------------------------------------

BIBTEX_KINDS = {
    "article": SourceKind.JOURNAL_ARTICLE,
    "inproceedings": SourceKind.JOURNAL_ARTICLE,
    "conference": SourceKind.JOURNAL_ARTICLE,
    "book": SourceKind.BOOK,
    "mvbook": SourceKind.BOOK,
    "inbook": SourceKind.BOOK,
    "incollection": SourceKind.BOOK,
    "bookinbook": SourceKind.BOOK,
    "booklet": SourceKind.BOOK,
    "collection": SourceKind.BOOK,
    "proceedings": SourceKind.BOOK,
    "online": SourceKind.WEB_ARTICLE,
    "electronic": SourceKind.WEB_ARTICLE,
    "www": SourceKind.WEB_ARTICLE,
    "webpage": SourceKind.WEB_ARTICLE,
    "unpublished": SourceKind.PREPRINT,
    "patent": SourceKind.PATENT,
}
# Where a BibTeX entry names its journal, site or publisher, in order of preference.
BIBTEX_CONTAINERS = (
    "journal",
    "journaltitle",
    "booktitle",
    "howpublished",
    "publisher",
    "institution",
    "organization",
    "school",
)


def _bibtex_stack() -> list:
    from bibtexparser import middlewares

    from findings.citation_libraries import LatexDecoding

    # Names are split while their braces still protect them ({World Health Organization}
    # is one name), then decoded.
    return [middlewares.SeparateCoAuthors(), middlewares.SplitNameParts(), LatexDecoding()]


def parse_bibtex(text: str) -> list[ImportEntry]:
    # The libraries of each format are imported when a file of it is read
    # (findings/citation_libraries.py says why).
    import bibtexparser
    from bibtexparser.model import (
        DuplicateBlockKeyBlock,
        DuplicateFieldKeyBlock,
        MiddlewareErrorBlock,
    )

    library = bibtexparser.parse_string(text, append_middleware=_bibtex_stack())
    blocks: list[tuple[Entry, list[str]]] = [(entry, []) for entry in library.entries]
    for failed in library.failed_blocks:
        line = (failed.start_line or 0) + 1
        if isinstance(failed, DuplicateBlockKeyBlock):
            # Two entries with one key: the second is read on its own (with the file's
            # @string abbreviations); the duplicate check judges it like any other.
            alone = bibtexparser.Library(blocks=list(library.strings))
            alone = bibtexparser.parse_string(
                failed.raw or "", append_middleware=_bibtex_stack(), library=alone
            )
            blocks += [(entry, []) for entry in alone.entries]
        elif isinstance(failed, DuplicateFieldKeyBlock):
            fields = ", ".join(sorted(failed.duplicate_keys))
            blocks.append(
                (failed.ignore_error_block, [f"The field {fields} appears twice in the entry."])
            )
        elif isinstance(failed, MiddlewareErrorBlock):
            blocks.append(
                (failed.ignore_error_block, [f"Its LaTeX could not be read: {failed.error}."])
            )
        else:
            raise ImportFileError(
                f"The BibTeX file cannot be read at line {line}: {_first_line(str(failed.error))}"
            )
    blocks.sort(key=lambda pair: pair[0].start_line or 0)
    return [
        _bibtex_entry(number, entry, problems)
        for number, (entry, problems) in enumerate(blocks, start=1)
    ]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "a syntax error."


def _bibtex_people(value: Any) -> list[Person]:
    if isinstance(value, str):  # an entry the middlewares did not reach
        return [Person(literal=_clean(name)) for name in re.split(r"\s+and\s+", value)]
    people = []
    for name in value or []:
        if isinstance(name, str):
            people.append(Person(literal=ET_AL if name == "others" else _clean(name)))
            continue
        family = _clean(" ".join([*name.von, *name.last]))
        given = _clean(" ".join(name.first))
        if name.jr:
            family = f"{family} {_clean(' '.join(name.jr))}"
        if family.lower() == "others" and not given:
            people.append(Person(literal=ET_AL))
        else:
            people.append(Person(family=family, given=given))
    return people


def _bibtex_entry(number: int, entry: Entry, problems: list[str]) -> ImportEntry:
    raw = {key.lower(): value for key, value in entry.fields_dict.items()}

    def text(name: str) -> str:
        found = raw.get(name)
        return _clean(found.value) if found is not None and isinstance(found.value, str) else ""

    problems = list(problems)
    fields: dict[str, Any] = {
        "title": text("title"),
        "container": next((text(n) for n in BIBTEX_CONTAINERS if text(n)), ""),
        "url": text("url"),
        "doi": text("doi"),
        "pmid": text("pmid"),
        "pmcid": text("pmcid"),
        "abstract": text("abstract"),
        "publication_type": text("type"),
    }
    eprint_type = text("eprinttype").lower()
    if eprint_type == "pubmed" and not fields["pmid"]:
        fields["pmid"] = text("eprint")
    if eprint_type in ("pmc", "pubmedcentral") and not fields["pmcid"]:
        fields["pmcid"] = text("eprint")
    date = text("date")
    year_text = text("year") or date
    fields["year"] = _year(year_text, problems)
    if full := re.match(r"^(\d{4})-(\d{2})-(\d{2})$", date):
        fields["published_on"] = _date(*full.groups())
    _identifiers_from_url(fields["url"], fields)
    people = _bibtex_people(raw["author"].value if "author" in raw else [])
    if not people and "editor" in raw:
        people = _bibtex_people(raw["editor"].value)
    fields["authors"] = ", ".join(p.shown for p in people)
    fields["kind"] = _kind(BIBTEX_KINDS.get(entry.entry_type.lower()), fields)
    return ImportEntry(
        number=number,
        origin=f"@{entry.entry_type}{{{entry.key}}}, line {(entry.start_line or 0) + 1}",
        entry_type=f"@{entry.entry_type}",
        fields=fields,
        people=people,
        problems=problems,
    )


# --- RIS (rispy) -----------------------------------------------------------------------

RIS_KINDS = {
    "JOUR": SourceKind.JOURNAL_ARTICLE,
    "JFULL": SourceKind.JOURNAL_ARTICLE,
    "EJOUR": SourceKind.JOURNAL_ARTICLE,
    "ABST": SourceKind.JOURNAL_ARTICLE,
    "INPR": SourceKind.JOURNAL_ARTICLE,
    "CPAPER": SourceKind.JOURNAL_ARTICLE,
    "CONF": SourceKind.JOURNAL_ARTICLE,
    "BOOK": SourceKind.BOOK,
    "EBOOK": SourceKind.BOOK,
    "EDBOOK": SourceKind.BOOK,
    "CHAP": SourceKind.BOOK,
    "ECHAP": SourceKind.BOOK,
    "ELEC": SourceKind.WEB_ARTICLE,
    "WEB": SourceKind.WEB_ARTICLE,
    "BLOG": SourceKind.WEB_ARTICLE,
    "ICOMM": SourceKind.WEB_ARTICLE,
    "NEWS": SourceKind.WEB_ARTICLE,
    "PAT": SourceKind.PATENT,
    "GOVDOC": SourceKind.REGULATORY_DOCUMENT,
    "BILL": SourceKind.REGULATORY_DOCUMENT,
    "STAT": SourceKind.REGULATORY_DOCUMENT,
    "UNPB": SourceKind.PREPRINT,
    "MANSCPT": SourceKind.PREPRINT,
    "DBASE": SourceKind.TRIAL_REGISTRY,
}
# Where RIS writers put the journal: T2 (the RIS specification, Zotero), JO, JF, JA, J2.
RIS_CONTAINERS = (
    "secondary_title",
    "journal_name",
    "alternate_title3",
    "alternate_title2",
    "alternate_title1",
)
_RIS_START = re.compile(r"^TY  -", re.MULTILINE)


def parse_ris(text: str) -> list[ImportEntry]:
    import rispy

    records = rispy.loads(text)
    starts, line, position = [], 1, 0
    for match in _RIS_START.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        starts.append(line)
    if len(records) != len(starts):
        # rispy drops a record whose "ER  -" line is missing (the file was cut short).
        line = starts[len(records)] if len(records) < len(starts) else starts[-1]
        raise ImportFileError(
            f"The RIS file cannot be read: the record starting on line {line} has no "
            "closing 'ER  -' line (the file may have been cut short)."
        )
    return [
        _ris_entry(number, record, line)
        for number, (record, line) in enumerate(zip(records, starts, strict=True), start=1)
    ]


def _ris_text(record: dict, *names: str) -> str:
    for name in names:
        value = record.get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        if _clean(value):
            return _clean(value)
    return ""


def _ris_person(name: str) -> Person:
    name = _clean(name)
    if "," in name:
        family, given = name.split(",", 1)
        return Person(family=family.strip(), given=given.strip().rstrip(","))
    return _vancouver_person(name)


def _ris_entry(number: int, record: dict, line: int) -> ImportEntry:
    problems: list[str] = []
    urls = record.get("urls") or []
    fields: dict[str, Any] = {
        "title": _ris_text(record, "title", "primary_title", "translated_title"),
        "container": _ris_text(record, *RIS_CONTAINERS),
        "url": _clean(urls[0]) if urls else "",
        "doi": _ris_text(record, "doi"),
        "abstract": _ris_text(record, "abstract", "notes_abstract"),
        "publication_type": _ris_text(record, "type_of_work"),
        "pmid": "",
        "pmcid": "",
    }
    # EndNote and PubMed-derived RIS carry the PMID as the accession number (AN) and the
    # PMCID in C2; "PMID: 123", "PMCID: PMC123" and links are read too.
    for value in (_ris_text(record, "accession_number"), _ris_text(record, "custom2")):
        pmcid, pmid = normalise_pmcid(value), normalise_pmid(value)
        if value and PMCID_RE.match(pmcid):
            fields["pmcid"] = fields["pmcid"] or pmcid
        elif value and PMID_RE.match(pmid):
            fields["pmid"] = fields["pmid"] or pmid
    fields["year"] = _year(_ris_text(record, "year", "publication_year"), problems)
    for name in ("date", "publication_year", "year"):
        if full := re.match(r"^(\d{4})/(\d{1,2})/(\d{1,2})", _ris_text(record, name)):
            fields["published_on"] = _date(*full.groups())
            break
    if fields["year"] is None and fields.get("published_on"):
        fields["year"] = fields["published_on"].year
    _identifiers_from_url(fields["url"], fields)
    people = [
        _ris_person(name)
        for name in (record.get("authors") or record.get("first_authors") or [])
        if _clean(name)
    ]
    fields["authors"] = ", ".join(p.shown for p in people)
    type_of_reference = _clean(record.get("type_of_reference")).upper()
    fields["kind"] = _kind(RIS_KINDS.get(type_of_reference), fields)
    return ImportEntry(
        number=number,
        origin=f"record {number} ({type_of_reference or 'no type'}), line {line}",
        entry_type=type_of_reference or "TY missing",
        fields=fields,
        people=people,
        problems=problems,
    )


# --- PubMed / MEDLINE (Biopython's Bio.Medline) ----------------------------------------

# A MEDLINE line: a tag of up to four capital letters (or digits), padded to four, "- ".
_MEDLINE_LINE = re.compile(r"^(?:[A-Z][A-Z0-9]{0,3} {0,3}- |      )")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


def parse_medline(text: str) -> list[ImportEntry]:
    from Bio import Medline

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not _MEDLINE_LINE.match(line):
            raise ImportFileError(
                f"The PubMed (MEDLINE) file cannot be read at line {number}: "
                f"“{line[:60]}” is not a MEDLINE line (a tag such as 'TI  - ' or a "
                "continuation indented by six spaces)."
            )
        if line.startswith("PMID-"):
            starts.append(number)
    records = list(Medline.parse(line + "\n" for line in lines))
    if len(records) != len(starts):
        raise ImportFileError(
            "The PubMed (MEDLINE) file cannot be read: every record starts with a "
            f"'PMID- ' line, and {len(records) - len(starts)} record(s) have none. Records "
            "are separated by a blank line."
        )
    return [
        _medline_entry(number, record, line)
        for number, (record, line) in enumerate(zip(records, starts, strict=True), start=1)
    ]


def _medline_identifier(record: dict, label: str) -> str:
    """``10.3390/x [doi]`` from AID (or LID): the identifier labelled ``label``."""
    values = [*record.get("AID", []), *([record["LID"]] if "LID" in record else [])]
    for value in values:
        if value.strip().endswith(f"[{label}]"):
            return value.rsplit("[", 1)[0].strip()
    return ""


def _medline_entry(number: int, record: dict, line: int) -> ImportEntry:
    problems: list[str] = []
    publication_types = [_clean(t) for t in record.get("PT", [])]
    fields: dict[str, Any] = {
        "title": _clean(record.get("TI") or record.get("BTI") or ""),
        "container": _clean(record.get("JT") or record.get("TA") or ""),
        "pmid": _clean(record.get("PMID")),
        "pmcid": _clean(record.get("PMC")) or _medline_identifier(record, "pmc"),
        "doi": _medline_identifier(record, "doi"),
        "abstract": _clean(record.get("AB")),
        "publication_type": "; ".join(publication_types),
        "url": "",
    }
    published = _clean(record.get("DP"))
    fields["year"] = _year(published, problems)
    full = re.match(r"^(\d{4}) ([A-Za-z]{3}) (\d{1,2})$", published)
    if full and full[2].lower() in _MONTHS:
        fields["published_on"] = _date(full[1], _MONTHS[full[2].lower()], full[3])
    people = [_vancouver_person(_clean(name)) for name in record.get("AU", []) if _clean(name)]
    people += [Person(literal=_clean(name)) for name in _as_list(record.get("CN"))]
    fields["authors"] = ", ".join(p.shown for p in people)
    fields["kind"] = _kind(None if fields["pmid"] else SourceKind.JOURNAL_ARTICLE, fields)
    if fields["kind"] == SourceKind.WEB_ARTICLE:  # PubMed records are journal articles
        fields["kind"] = SourceKind.JOURNAL_ARTICLE
    return ImportEntry(
        number=number,
        origin=f"PMID {fields['pmid'] or '?'}, line {line}",
        entry_type=", ".join(publication_types) or "no PT",
        fields=fields,
        people=people,
        problems=problems,
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- CSL-JSON (json) -------------------------------------------------------------------

CSL_KINDS = {
    "article-journal": SourceKind.JOURNAL_ARTICLE,
    "article-magazine": SourceKind.JOURNAL_ARTICLE,
    "paper-conference": SourceKind.JOURNAL_ARTICLE,
    # CSL's "article": a work made widely available without a journal (a preprint).
    "article": SourceKind.PREPRINT,
    "book": SourceKind.BOOK,
    "chapter": SourceKind.BOOK,
    "webpage": SourceKind.WEB_ARTICLE,
    "post": SourceKind.WEB_ARTICLE,
    "post-weblog": SourceKind.WEB_ARTICLE,
    "article-newspaper": SourceKind.WEB_ARTICLE,
    "patent": SourceKind.PATENT,
    "legislation": SourceKind.REGULATORY_DOCUMENT,
    "regulation": SourceKind.REGULATORY_DOCUMENT,
    "bill": SourceKind.REGULATORY_DOCUMENT,
}


def parse_csl_json(text: str) -> list[ImportEntry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"The CSL-JSON file cannot be read at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from None
    except RecursionError:
        raise ImportFileError("The CSL-JSON file nests too deeply to be read.") from None
    items = data if isinstance(data, list) else [data]
    entries = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportFileError(
                f"The CSL-JSON file cannot be read: item {number} is not an object "
                "({…}) but " + type(item).__name__ + "."
            )
        entries.append(_csl_entry(number, item))
    return entries


def _csl_text(item: dict, name: str) -> str:
    value = item.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return _clean(value) if isinstance(value, str | int) else ""


def _csl_entry(number: int, item: dict) -> ImportEntry:
    problems: list[str] = []
    fields: dict[str, Any] = {
        "title": _csl_text(item, "title"),
        "container": _csl_text(item, "container-title") or _csl_text(item, "publisher"),
        "url": _csl_text(item, "URL"),
        "doi": _csl_text(item, "DOI"),
        "pmid": _csl_text(item, "PMID"),
        "pmcid": _csl_text(item, "PMCID"),
        "abstract": _csl_text(item, "abstract"),
        "publication_type": _csl_text(item, "genre"),
        "year": None,
    }
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
        if first:
            fields["year"] = _year(str(first[0]), problems)
            if len(first) >= 3:
                fields["published_on"] = _date(*first[:3])
        elif issued.get("raw") or issued.get("literal"):
            raw = _clean(issued.get("raw") or issued.get("literal"))
            fields["year"] = _year(raw, problems)
            if full := re.match(r"^(\d{4})-(\d{2})-(\d{2})$", raw):
                fields["published_on"] = _date(*full.groups())
    elif issued is not None:
        problems.append("Date: “issued” is not a CSL date object.")
    people = []
    for author in item.get("author") or []:
        if not isinstance(author, dict):
            continue
        if author.get("literal"):
            people.append(Person(literal=_clean(author["literal"])))
            continue
        particle = _clean(author.get("non-dropping-particle"))
        family = _clean(f"{particle} {_clean(author.get('family'))}")
        people.append(Person(family=family, given=_clean(author.get("given"))))
    fields["authors"] = ", ".join(p.shown for p in people)
    _identifiers_from_url(fields["url"], fields)
    csl_type = _csl_text(item, "type")
    fields["kind"] = _kind(CSL_KINDS.get(csl_type), fields)
    label = _csl_text(item, "id")
    return ImportEntry(
        number=number,
        origin=f"item {number}" + (f" (id {label})" if label else ""),
        entry_type=csl_type or "no type",
        fields=fields,
        people=people,
        problems=problems,
    )


PARSERS = {
    "bibtex": parse_bibtex,
    "ris": parse_ris,
    "medline": parse_medline,
    "csl-json": parse_csl_json,
}


# ---------------------------------------------------------------------------
# The verdicts
# ---------------------------------------------------------------------------

# Words a citation key skips in a title.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "and",
        "or",
        "for",
        "to",
        "with",
        "without",
        "by",
        "from",
        "at",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "its",
        "their",
        "does",
        "do",
        "not",
        "no",
    ]
)
_YEAR_RANGE = (1800, 2100)  # Source's check constraint findings_source_year_range


def _ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def citation_key(entry: ImportEntry, taken: set[str]) -> str:
    """First author + year + the title's first significant word (``brenu2011_immunological``),
    made unique against ``taken`` (which it joins) with ``_2``, ``_3`` …"""
    author = next((_ascii_slug(p.key_name) for p in entry.people if p.literal != ET_AL), "")
    year = entry.values.get("year") or "nd"
    words = [_ascii_slug(w) for w in entry.values.get("title", "").split()]
    word = next((w for w in words if w and w not in _STOPWORDS and len(w) > 2), "")
    base = f"{author[:30] or 'anon'}{year}" + (f"_{word[:30]}" if word else "")
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    taken.add(key)
    return key


def _validate(entry: ImportEntry) -> None:
    """The model's own validation on an unsaved Source: field validators (identifier
    formats, lengths, choices, required title). Unique and check constraints are not
    asked of the database here (one query per entry); the duplicate index covers the
    unique identifiers, the year range is checked below, and ``record_create`` runs the
    full validation again when the draft is made."""
    source = Source(**{name: entry.fields.get(name) or _empty(name) for name in IMPORTED_FIELDS})
    source.key = "import"
    reasons = list(entry.problems)
    try:
        source.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            label = FIELD_LABELS.get(name, name)
            reasons += [f"{label}: {message}" for message in messages]
    if source.year is not None and not _YEAR_RANGE[0] <= source.year <= _YEAR_RANGE[1]:
        reasons.append(f"Year: {source.year} is not between 1800 and 2100.")
    entry.reasons = reasons
    entry.values = {name: getattr(source, name) for name in IMPORTED_FIELDS}


def _empty(name: str) -> Any:
    return None if name in ("year", "published_on") else ""


def import_preview(imported: ImportFile, *, index: SourceIndex | None = None) -> ImportFile:
    """Judge every entry (new, duplicate, duplicate within the file, invalid), against
    the sources read once by ``SourceIndex.load()``; writes nothing."""
    index = SourceIndex.load() if index is None else index
    in_file = SourceIndex()
    taken = set(index.keys)
    for entry in imported.entries:
        _validate(entry)
        values = entry.values
        identifiers = {name: values.get(name) or "" for name in ("doi", "pmid", "pmcid", "nct_id")}
        if entry.reasons:
            entry.verdict = INVALID
            continue
        lookup = {"identifiers": identifiers, "title": values["title"], "year": values["year"]}
        entry.matches = index.find(**lookup)
        if entry.matches:
            entry.verdict = DUPLICATE
            continue
        entry.matches = in_file.find(**lookup)
        if entry.matches:
            entry.verdict = DUPLICATE_IN_FILE
            continue
        entry.verdict = NEW
        entry.key = citation_key(entry, taken)
        in_file.add(
            Known(title=values["title"], year=values["year"], entry=entry.number), identifiers
        )
    return imported


# ---------------------------------------------------------------------------
# Creating the drafts
# ---------------------------------------------------------------------------


def import_reason(filename: str, user) -> str:
    """The history's reason (at most 100 characters): ``Imported from refs.bib by
    ana@example.org``. A long file name is shortened in the middle; the importer is
    named in the history's user column too."""
    who = str(getattr(user, "get_username", lambda: user)())
    reason = f"Imported from {filename} by {who}"
    if len(reason) <= 100:
        return reason
    room = 100 - len(f"Imported from  by {who}")
    if room >= 12:
        half = (room - 1) // 2
        return f"Imported from {filename[:half]}…{filename[-half:]} by {who}"
    short = f"Imported from {filename}"
    return short if len(short) <= 100 else f"Imported from {filename[:40]}…{filename[-40:]}"


@transaction.atomic
def sources_import(*, imported: ImportFile, chosen: Iterable[int] | None, user) -> list[Source]:
    """Create the chosen entries (by number; all new entries when ``chosen`` is None)
    that ``import_preview`` found new, as drafts, in one transaction: one refusal
    creates nothing. ``imported`` must have been judged just now (import_preview), in
    this request: the curator's choice names entries, never their content."""
    wanted = None if chosen is None else set(chosen)
    reason = import_reason(imported.filename, user)
    created = []
    for entry in imported.entries:
        if entry.verdict != NEW or (wanted is not None and entry.number not in wanted):
            continue
        fields = {**entry.values, "key": entry.key}
        try:
            created.append(record_create(model=Source, fields=fields, user=user, reason=reason))
        except ValidationError as exc:
            raise ImportFileError(
                f"Entry {entry.number} ({entry.origin}) could not be created: "
                + " ".join(exc.messages)
                + " Nothing was imported."
            ) from None
    return created
