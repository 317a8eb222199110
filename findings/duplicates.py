"""Is this document already a source? One matcher for the file import (every entry of a
file against every source, and against the file's own earlier entries), the admin's
source form and the API: the same identifiers, the same title rule, the same words.

What counts as the same document:

- the same DOI, PMID, PMCID or ClinicalTrials.gov number, after normalisation (the
  model fields' own ``normalise_*``: a pasted link, a label or lower case is the same
  identifier);
- or a near-identical title in the same year (both without a year counts as the same
  year): titles are compared after folding case, accents and punctuation, with
  rapidfuzz's ``fuzz.ratio``, and only against sources of that year, so that a file of
  thousands of entries is checked in a second, not a minute.

The index loads every source's identifiers, title and year in one query
(``SourceIndex.load``), whatever the number of entries checked against it: no query
per entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from rest_framework import serializers
from rest_framework.exceptions import APIException

from findings.fields import normalise_doi, normalise_nct, normalise_pmcid, normalise_pmid
from findings.models import Source

# How alike two normalised titles of the same year must be (rapidfuzz's ratio, 0-100) to
# be called the same document. 95 lets through a changed word in a long title ("in" for
# "of", a subtitle's punctuation, British and American spelling) but not two studies
# whose titles differ by their subject ("natural killer cell" vs "T cell").
TITLE_SCORE = 95.0

# The identifiers a match may be on, in the order they are tried, with their labels.
IDENTIFIERS = (
    ("doi", "DOI"),
    ("pmid", "PMID"),
    ("pmcid", "PMCID"),
    ("nct_id", "ClinicalTrials.gov number"),
)
NORMALISE = {
    "doi": normalise_doi,
    "pmid": normalise_pmid,
    "pmcid": normalise_pmcid,
    "nct_id": normalise_nct,
}
# Read once per index: what a match shows, and what it is matched on.
INDEX_FIELDS = ("pk", "key", "title", "year", "status", "doi", "pmid", "pmcid", "nct_id")

_NOT_WORD = re.compile(r"[\W_]+")


def normalise_title(title: str) -> str:
    """Lower case, without accents, punctuation or repeated spaces: ``Chronic fatigue
    syndrome--study`` and ``Chronic Fatigue Syndrome: study.`` read the same."""
    decomposed = unicodedata.normalize("NFKD", title or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", plain.casefold()).strip()


@dataclass(frozen=True)
class Known:
    """A document the index holds: an existing source (``pk`` set) or an earlier entry
    of the file being imported (``entry`` set, its 1-based position)."""

    title: str
    year: int | None
    key: str = ""
    status: str = ""
    pk: int | None = None
    entry: int | None = None

    @property
    def admin_url(self) -> str:
        return reverse("admin:findings_source_change", args=[self.pk]) if self.pk else ""

    @property
    def api_url(self) -> str:
        return reverse("api:source-detail", args=[self.pk]) if self.pk else ""

    def __str__(self) -> str:
        if self.pk is None:
            return f"entry {self.entry} of this file (“{_short(self.title)}”)"
        return f"“{self.key}” ({_short(self.title)}, {self.year or 'no year'})"


@dataclass(frozen=True)
class DuplicateMatch:
    """Why ``known`` is taken to be the same document: ``on`` is ``doi``, ``pmid``,
    ``pmcid``, ``nct_id`` or ``title``; ``score`` is the title's likeness (0-100)."""

    known: Known
    on: str
    value: str
    score: float | None = None

    @property
    def on_label(self) -> str:
        return dict(IDENTIFIERS).get(self.on, "title")

    @property
    def reason(self) -> str:
        if self.on == "title":
            when = "in the same year" if self.known.year else "and no year, like this one"
            return f"a near-identical title {when} ({self.score:.0f}% alike)"
        return f"the same {self.on_label} ({self.value})"

    def __str__(self) -> str:
        return f"{self.known}: {self.reason}"


def _short(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


class SourceIndex:
    """Documents by identifier, and their normalised titles by year."""

    def __init__(self) -> None:
        self.by_identifier: dict[str, dict[str, Known]] = {name: {} for name, _ in IDENTIFIERS}
        self.titles_by_year: dict[int | None, list[str]] = {}
        self.known_by_year: dict[int | None, list[Known]] = {}
        self.keys: set[str] = set()

    @classmethod
    def load(cls, queryset=None) -> SourceIndex:
        """Every source of ``queryset`` (all sources, whatever their status, by
        default), read in one query."""
        index = cls()
        rows = (Source._default_manager.all() if queryset is None else queryset).values_list(
            *INDEX_FIELDS
        )
        for pk, key, title, year, status, *identifiers in rows.order_by():
            known = Known(title=title, year=year, key=key, status=status, pk=pk)
            index.add(known, dict(zip(NORMALISE, identifiers, strict=True)))
        return index

    def add(self, known: Known, identifiers: dict[str, str]) -> None:
        for name, value in identifiers.items():
            if value:
                self.by_identifier[name].setdefault(value, known)
        if known.title:
            self.titles_by_year.setdefault(known.year, []).append(normalise_title(known.title))
            self.known_by_year.setdefault(known.year, []).append(known)
        if known.key:
            self.keys.add(known.key)

    def find(
        self, *, identifiers: dict[str, str], title: str, year: int | None, on=None
    ) -> list[DuplicateMatch]:
        """Every document of the index this one may be: identifier matches first (in the
        order of IDENTIFIERS), then the most alike title of the same year. ``on`` limits
        what is compared (names of IDENTIFIERS and ``"title"``)."""
        matches: list[DuplicateMatch] = []
        seen: set[int] = set()
        for name, _label in IDENTIFIERS:
            if on is not None and name not in on:
                continue
            value = NORMALISE[name](identifiers.get(name) or "")
            known = self.by_identifier[name].get(value) if value else None
            if known is not None and id(known) not in seen:
                seen.add(id(known))
                matches.append(DuplicateMatch(known=known, on=name, value=value))
        if title and (on is None or "title" in on):
            titles = self.titles_by_year.get(year)
            if titles:
                # Imported when titles are compared, not by every worker at start
                # (findings/citation_libraries.py says why).
                from rapidfuzz import fuzz, process

                best = process.extractOne(
                    normalise_title(title),
                    titles,
                    scorer=fuzz.ratio,
                    score_cutoff=TITLE_SCORE,
                )
                if best is not None:
                    known = self.known_by_year[year][best[2]]
                    if id(known) not in seen:
                        matches.append(
                            DuplicateMatch(known=known, on="title", value=title, score=best[1])
                        )
        return matches


def source_duplicates(
    *,
    fields: dict[str, Any],
    exclude_pk: int | None = None,
    on: Iterable[str] | None = None,
) -> list[DuplicateMatch]:
    """The existing sources a record with ``fields`` (a form's or serializer's values)
    may duplicate, read in one query: those sharing an identifier, and those of the
    same year, whose titles are compared."""
    on = set(on) if on is not None else None
    identifiers = {name: NORMALISE[name](str(fields.get(name) or "")) for name in NORMALISE}
    condition = Q()
    for name, value in identifiers.items():
        if value and (on is None or name in on):
            condition |= Q(**{name: value})
    title = str(fields.get("title") or "")
    year = fields.get("year")
    if title and (on is None or "title" in on):
        condition |= Q(year=year) if year is not None else Q(year__isnull=True)
    if not condition:
        return []
    candidates = Source._default_manager.filter(condition)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    index = SourceIndex.load(candidates)
    return index.find(identifiers=identifiers, title=title, year=year, on=on)


# ---------------------------------------------------------------------------
# Entering one source (the admin's form, the API): a warning, which a curator may
# override for a genuinely different document, with the reason in its history
# ---------------------------------------------------------------------------

# The DOI, PMID and ClinicalTrials.gov number are unique (a field error already names
# the source that has one); these have no unique constraint, so they are a warning.
WARNED_ON = ("pmcid", "title")
# Shown on the source's admin form after a refused save (findings/admin.py).
DUPLICATE_FIELDSET = (
    "Possible duplicate",
    {
        "fields": ["different_document", "different_reason"],
        "description": "Only needed when the warning above names a source that looks like "
        "this one.",
    },
)
# The history's reason holds 100 characters: "Not a duplicate of <key>: " and this.
DIFFERENT_REASON_MAX = 80


def different_document_reason(matches: list[DuplicateMatch], reason: str) -> str:
    """What the record's history keeps when a curator saves it despite the warning."""
    keys = ", ".join(m.known.key for m in matches)
    full = f"Not a duplicate of {keys}: {reason}"
    return full if len(full) <= 100 else f"Not a duplicate: {reason}"


class DuplicateWarningFormMixin(forms.Form):
    """On a source's admin form: before saving, a PMCID or a near-identical title (same
    year) shared with another source is shown as an error naming it, with a link. A
    curator who knows it is a different document ticks the box and says why; the reason
    goes into the record's history."""

    different_document = forms.BooleanField(
        label="This is a different document",
        required=False,
        help_text="Tick only when a warning above names a source that looks like this one "
        "but is another document (say why below).",
    )
    different_reason = forms.CharField(
        label="Why it is a different document",
        required=False,
        max_length=DIFFERENT_REASON_MAX,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text=f"Kept in the record's history. At most {DIFFERENT_REASON_MAX} characters.",
    )

    duplicate_matches: list[DuplicateMatch] = ()  # set by clean()

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.instance.pk is not None and not set(self.changed_data) & {*WARNED_ON, "year"}:
            return cleaned  # judged when those fields were last saved
        fields = {name: cleaned.get(name) for name in ("pmcid", "title", "year")}
        matches = source_duplicates(fields=fields, exclude_pk=self.instance.pk, on=WARNED_ON)
        self.duplicate_matches = matches
        if not matches:
            return cleaned
        reason = (cleaned.get("different_reason") or "").strip()
        if cleaned.get("different_document") and reason:
            note = different_document_reason(matches, reason)
            # The services keep it as the history's reason (record_create, record_edit).
            given = (cleaned.get("change_reason") or "").strip()
            cleaned["change_reason"] = f"{given} ({note})" if given else note
            return cleaned
        if cleaned.get("different_document"):
            self.add_error(
                "different_reason", "Say why it is a different document: it is kept in history."
            )
        raise forms.ValidationError(duplicate_warning(matches), code="possible_duplicate")


def duplicate_warning(matches: list[DuplicateMatch]):
    """The warning, as safe HTML with a link to each source it names."""
    items = format_html_join(
        "",
        '<li><a href="{}">{}</a> ({}, {}): {}</li>',
        (
            (
                m.known.admin_url,
                m.known.key,
                _short(m.known.title),
                m.known.year or "no year",
                m.reason,
            )
            for m in matches
        ),
    )
    return format_html(
        "This may be a source that is already in the knowledge base:<ul>{}</ul>Open it "
        "instead of adding the document again. If this is a different document, tick “This "
        "is a different document” below and say why.",
        items,
    )


# ---------------------------------------------------------------------------
# The API: 409 possible_duplicate, unless the body says it is a different document
# ---------------------------------------------------------------------------


class PossibleDuplicate(APIException):
    status_code = 409
    default_code = "possible_duplicate"
    default_detail = "This may be a source that is already in the knowledge base."

    def __init__(self, matches: list[DuplicateMatch]):
        names = "; ".join(f"{m.known} (/api/v1/sources/{m.known.pk}/): {m.reason}" for m in matches)
        super().__init__(
            f"This may be a source that is already in the knowledge base: {names}. Nothing "
            "was saved. If it is a different document, send the request again with "
            '"different_document": true and "different_reason": "why".'
        )
        self.errors: dict[str, list[str]] = {}
        for match in matches:
            self.errors.setdefault(match.on, []).append(
                f"{match.known}, id {match.known.pk} ({match.known.api_url}): {match.reason}."
            )


def api_duplicate_check(*, data: dict[str, Any], instance: Source | None) -> str:
    """For the API's POST and PATCH of a source: pops ``different_document`` and
    ``different_reason`` from ``data`` (the serializer's validated data); raises
    PossibleDuplicate when a PMCID or a near-identical title of the same year matches
    another source, unless it is said to be a different document; returns the reason
    for the history then (else "")."""
    different = data.pop("different_document", False)
    reason = (data.pop("different_reason", "") or "").strip()
    if instance is not None and not {*WARNED_ON, "year"} & set(data):
        return ""
    current = (
        {name: getattr(instance, name) for name in ("pmcid", "title", "year")} if instance else {}
    )
    fields = {**current, **{k: v for k, v in data.items() if k in ("pmcid", "title", "year")}}
    matches = source_duplicates(
        fields=fields, exclude_pk=instance.pk if instance else None, on=WARNED_ON
    )
    if not matches:
        return ""
    if different and reason:
        return different_document_reason(matches, reason)
    if different:
        raise serializers.ValidationError(
            {"different_reason": ["Say why it is a different document: it is kept in history."]}
        )
    raise PossibleDuplicate(matches)
