"""Citations out: "Cite this" as text, BibTeX and RIS, for one source or a list of them.

BibTeX is written by bibtexparser 2 (its model, LaTeX encoding middleware and writer),
RIS by rispy: no hand-built citation strings. What an import reads back
(findings/importing.py) is what these write, so an exported list imported again is
all duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from curation.versions import data_version_of
from findings.models import Source, SourceKind

if TYPE_CHECKING:
    from bibtexparser.middlewares.names import NameParts
    from bibtexparser.model import Entry

# Content types and file extensions of the two formats (the registered ones where there
# are: RIS's is application/x-research-info-systems; BibTeX has none, x-bibtex is usual).
CITATION_FORMATS = {
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
}

BIBTEX_TYPES = {
    SourceKind.JOURNAL_ARTICLE: "article",
    SourceKind.REVIEW: "article",
    # "A document having an author and title, but not formally published" (BibTeX).
    SourceKind.PREPRINT: "unpublished",
    SourceKind.BOOK: "book",
}
# Where each BibTeX type names the source's container.
BIBTEX_CONTAINER = {"article": "journal", "book": "publisher"}
RIS_TYPES = {
    SourceKind.JOURNAL_ARTICLE: "JOUR",
    SourceKind.REVIEW: "JOUR",
    SourceKind.PREPRINT: "UNPB",
    SourceKind.TRIAL_REGISTRY: "DBASE",
    SourceKind.REGULATORY_DOCUMENT: "GOVDOC",
    SourceKind.WEB_ARTICLE: "ELEC",
    SourceKind.BOOK: "BOOK",
    SourceKind.PATENT: "PAT",
}

# "Brenu EW": a family name and initials, as PubMed (Vancouver) prints an author.
_VANCOUVER = re.compile(r"^(?P<family>.+?)\s+(?P<initials>[A-Z]{1,4})$")
ET_AL = ("et al", "et al.")


def _author_names(source: Source) -> list[str]:
    return [name.strip() for name in source.authors.split(",") if name.strip()]


# ---------------------------------------------------------------------------
# BibTeX
# ---------------------------------------------------------------------------

# The libraries are imported where a file is written (findings/citation_libraries.py
# says why).


def _bibtex_name(name: str) -> NameParts:
    """'Brenu EW' (as PubMed prints it) is Brenu, E. W.; 'et al.' is BibTeX's 'others';
    any other name is kept whole."""
    from bibtexparser.middlewares.names import NameParts

    if name.lower() in ET_AL:
        return NameParts(last=["others"])
    match = _VANCOUVER.match(name)
    if match:
        return NameParts(
            first=[f"{letter}." for letter in match["initials"]], last=[match["family"]]
        )
    return NameParts(last=[name])


def bibtex_entry(source: Source) -> Entry:
    from bibtexparser.model import Entry, Field

    entry_type = BIBTEX_TYPES.get(source.kind, "misc")
    fields: list[tuple[str, Any]] = [("title", source.title)]
    names = [_bibtex_name(name) for name in _author_names(source)]
    if names:
        fields.append(("author", names))
    if source.container:
        fields.append((BIBTEX_CONTAINER.get(entry_type, "howpublished"), source.container))
    if source.year:
        fields.append(("year", str(source.year)))
    if source.published_on:
        fields.append(("date", source.published_on.isoformat()))  # biblatex
    for name in ("doi", "pmid", "pmcid", "url"):
        if getattr(source, name):
            fields.append((name, getattr(source, name)))
    if source.retracted:
        fields.append(("note", "Retracted"))
    return Entry(entry_type, source.key, [Field(key, value) for key, value in fields])


def sources_bibtex(sources: Iterable[Source]) -> str:
    import bibtexparser
    from bibtexparser import middlewares

    from findings.citation_libraries import CitationLatexEncoding

    library = bibtexparser.Library([bibtex_entry(source) for source in sources])
    layout = bibtexparser.BibtexFormat()
    layout.indent = "  "
    layout.block_separator = "\n\n"
    written = bibtexparser.write_string(
        library,
        prepend_middleware=[
            CitationLatexEncoding(),
            middlewares.MergeNameParts(style="last"),
            middlewares.MergeCoAuthors(),
        ],
        bibtex_format=layout,
    )
    return written.strip() + "\n" if written.strip() else ""


# ---------------------------------------------------------------------------
# RIS
# ---------------------------------------------------------------------------


def _ris_name(name: str) -> str:
    match = _VANCOUVER.match(name)
    if match:
        return f"{match['family']}, " + " ".join(f"{letter}." for letter in match["initials"])
    return name


def _one_line(value: str) -> str:
    # RIS is one line per tag: a line break would start what reads as another tag.
    return " ".join(str(value).split())


def ris_record(source: Source) -> dict[str, Any]:
    ris_type = RIS_TYPES.get(source.kind, "GEN")
    record: dict[str, Any] = {
        "type_of_reference": ris_type,
        "id": source.key,
        "title": _one_line(source.title),
    }
    authors = [_ris_name(name) for name in _author_names(source) if name.lower() not in ET_AL]
    if authors:
        record["authors"] = authors
    if source.container:
        record["publisher" if ris_type == "BOOK" else "secondary_title"] = _one_line(
            source.container
        )
    if source.year:
        record["year"] = str(source.year)
    if source.published_on:
        record["date"] = source.published_on.strftime("%Y/%m/%d")
    if source.doi:
        record["doi"] = source.doi
    # EndNote and PubMed-derived RIS: the PMID as accession number, the PMCID in C2.
    if source.pmid:
        record["accession_number"] = source.pmid
    if source.pmcid:
        record["custom2"] = source.pmcid
    if source.url:
        record["urls"] = [source.url]
    if source.publication_type:
        record["type_of_work"] = _one_line(source.publication_type)
    if source.retracted:
        record["notes"] = ["Retracted"]
    return record


def sources_ris(sources: Iterable[Source]) -> str:
    import rispy

    from findings.citation_libraries import RisWriter

    return rispy.dumps([ris_record(source) for source in sources], implementation=RisWriter)


# ---------------------------------------------------------------------------
# Plain text, and the downloads
# ---------------------------------------------------------------------------


def source_citation(source: Source) -> str:
    parts = []
    if source.authors:
        parts.append(source.authors.rstrip(".") + ".")
    parts.append(f"({source.year})." if source.year else "(no date).")
    parts.append(source.title.rstrip(".") + ".")
    if source.container:
        parts.append(source.container.rstrip(".") + ".")
    if source.doi:
        parts.append(f"doi:{source.doi}")
    if source.pmid:
        parts.append(f"PMID: {source.pmid}")
    if source.retracted:
        parts.append("[Retracted]")
    return " ".join(parts)


WRITERS = {"bibtex": sources_bibtex, "ris": sources_ris}


def citation_text(sources: Iterable[Source], citation_format: str) -> str:
    return WRITERS[citation_format](sources)


def citation_filename(basename: str, citation_format: str, data_version: int) -> str:
    """``sources-v12.bib``: named with the data version, like the CSV downloads."""
    return f"{basename}-v{data_version}.{CITATION_FORMATS[citation_format][1]}"


def citation_response(
    sources: Iterable[Source], citation_format: str, *, basename: str, data_version: int
) -> HttpResponse:
    content_type, _extension = CITATION_FORMATS[citation_format]
    response = HttpResponse(citation_text(sources, citation_format), content_type=content_type)
    filename = citation_filename(basename, citation_format, data_version)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------------------
# The API: /api/v1/sources/?format=bibtex|ris (the filtered list, whole) and
# /api/v1/sources/<id>/?format=bibtex|ris
# ---------------------------------------------------------------------------


class _CitationRenderer(BaseRenderer):
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return citation_text(data, self.format)


class BibTeXRenderer(_CitationRenderer):
    media_type = "application/x-bibtex"
    format = "bibtex"


class RISRenderer(_CitationRenderer):
    media_type = "application/x-research-info-systems"
    format = "ris"


CITATION_FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "bibtex", "ris", "csv"],
    description="`bibtex` or `ris`: the sources as citations (BibTeX written by "
    "bibtexparser, RIS by rispy), every source the filters select, not one page; the "
    "file is named with the data version (`sources-v12.bib`). `csv` (list only): every "
    "source the filters select as CSV. Default: JSON.",
)
CITATION_RESPONSES = {
    (200, BibTeXRenderer.media_type): OpenApiTypes.STR,
    (200, RISRenderer.media_type): OpenApiTypes.STR,
}


class CitationFormatsMixin:
    """A sources viewset's list and detail also answer ``?format=bibtex`` and
    ``?format=ris``; their errors stay in the API's JSON error body."""

    citation_actions = ("list", "retrieve")

    def get_renderers(self):
        renderers = super().get_renderers()
        if getattr(self, "action", None) in self.citation_actions:
            renderers += [BibTeXRenderer(), RISRenderer()]
        return renderers

    def _citation_format(self, request) -> str:
        return getattr(getattr(request, "accepted_renderer", None), "format", "")

    def _citations(self, request, sources: list, basename: str) -> Response:
        citation_format = self._citation_format(request)
        filename = citation_filename(basename, citation_format, data_version_of(request).number)
        return Response(
            sources, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    def list(self, request, *args, **kwargs):
        if self._citation_format(request) in CITATION_FORMATS:
            # Queries: one, for every source the filters select (a citation file is
            # the whole list, like the CSV downloads).
            return self._citations(
                request, list(self.filter_queryset(self.get_queryset())), "sources"
            )
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        if self._citation_format(request) in CITATION_FORMATS:
            source = self.get_object()
            return self._citations(request, [source], source.key)
        return super().retrieve(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(
            getattr(response, "accepted_renderer", None), _CitationRenderer
        ):
            json_renderer = api_settings.DEFAULT_RENDERER_CLASSES[0]()
            response.accepted_renderer = json_renderer
            response.accepted_media_type = json_renderer.media_type
        return response
