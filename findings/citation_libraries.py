"""The citation libraries' classes this project extends: bibtexparser's LaTeX
middlewares (reading, findings/importing.py; writing, findings/citations.py) and
rispy's writer.

They are here, and the libraries are imported where a citation file is read or written,
not when those modules are, because a web worker imports both at start (the admin, the
API's renderers) and most never read or write a citation file. With the lookup's HTTP
client (findings/lookup/http.py), the near-duplicate matcher (findings/duplicates.py) and
the reading grade (findings/readability.py), the libraries loaded at start cost each worker
about 10 MB of memory it kept for good (issue 14, part 5; tests/test_startup_imports.py
keeps them out).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import rispy
from bibtexparser import middlewares
from bibtexparser.middlewares.names import NameParts
from bibtexparser.model import Entry

# Fields BibTeX styles print verbatim (\url, \doi): LaTeX escapes would show as typed.
VERBATIM_FIELDS = frozenset({"doi", "url", "pmid", "pmcid"})


class LatexDecoding(middlewares.LatexDecodingMiddleware):
    """bibtexparser's LaTeX decoder (``{\\"u}`` is ü, ``\\&`` is &), with two guards:

    - a bare ``%`` is text, not a LaTeX comment: pylatexenc would drop the rest of the
      value ("50% of patients" read as "50"), so it is escaped first;
    - a value without LaTeX markup is returned as it is, and one whose only markup is
      grouping braces without them: what pylatexenc gives back, without asking it, which
      costs about 4 ms a value (20 s for a file of 5,000 entries).
    """

    MARKUP = re.compile(r"[\\{}$~%]|--|``|''")
    COMMANDS = re.compile(r"[\\$~%]|--|``|''")

    def transform_entry(self, entry: Entry, library) -> Any:
        # Authors split into names (SplitNameParts, before this) are decoded part by part;
        # the library's own loop decodes strings and single names only.
        names = {}
        for field_ in entry.fields:
            if isinstance(field_.value, list):
                names[field_.key] = field_.value
                field_.value = ""
        block = super().transform_entry(entry, library)
        for field_ in block.fields if isinstance(block, Entry) else entry.fields:
            if field_.key in names:
                field_.value = [self._decode_name(name) for name in names[field_.key]]
        return block

    def _decode_name(self, name: Any) -> Any:
        if isinstance(name, str):
            return self._transform_python_value_string(name)[0]
        for part in ("first", "von", "last", "jr"):
            setattr(
                name, part, [self._transform_python_value_string(p)[0] for p in getattr(name, part)]
            )
        return name

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        if not self.MARKUP.search(python_string):
            return python_string, ""
        if not self.COMMANDS.search(python_string):
            # Only grouping braces ({NK} cells): pylatexenc would drop them, and so do we.
            return python_string.replace("{", "").replace("}", ""), ""
        return self._decode_markup(python_string)

    @functools.lru_cache(maxsize=20_000)  # noqa: B019 (one parse's middleware; freed with it)
    def _decode_markup(self, python_string: str) -> tuple[str, str]:
        # A library repeats its journals and authors: each is decoded once per file.
        escaped = re.sub(r"(?<!\\)%", r"\\%", python_string)
        return super()._transform_python_value_string(escaped)


class CitationLatexEncoding(middlewares.LatexEncodingMiddleware):
    """bibtexparser's LaTeX encoding (``&`` is ``\\&``, ü is ``\\"u``), for a citation:

    - identifiers and links are left as they are (they are printed verbatim);
    - names are encoded part by part, and a name that is not "Family, Initials" is
      braced whole, so that BibTeX does not split "World Health Organization" into a
      first and a last name;
    - the title is braced, so that styles keep its capitals (NK, IgG, ME/CFS).
    """

    def __init__(self):
        super().__init__(keep_math=False, enclose_urls=False)

    def _encode(self, text: str) -> str:
        return self._transform_python_value_string(text)[0]

    def transform_entry(self, entry: Entry, library) -> Entry:
        for field in entry.fields:
            if field.key in VERBATIM_FIELDS:
                continue
            if isinstance(field.value, list):
                field.value = [self._encode_name(name) for name in field.value]
            elif field.key == "title":
                field.value = "{" + self._encode(field.value) + "}"
            else:
                field.value = self._encode(field.value)
        return entry

    def _encode_name(self, name: NameParts) -> NameParts:
        if name.last == ["others"] and not name.first:
            return name
        encoded = NameParts(
            first=[self._encode(p) for p in name.first],
            von=[self._encode(p) for p in name.von],
            last=[self._encode(p) for p in name.last],
            jr=[self._encode(p) for p in name.jr],
        )
        if not encoded.first:
            encoded.last = ["{" + " ".join(encoded.last) + "}"]
        return encoded


class RisWriter(rispy.RisWriter):
    """rispy's writer without the "1.", "2." line it puts before each record: not part
    of RIS, and some readers take it for a stray line."""

    def set_header(self, count: int) -> str:
        return ""
