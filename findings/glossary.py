"""The glossary where readers meet its words: ``gloss(text, terms)`` marks the first
place each published term (or a way it is also written) occurs in a text with
``<abbr title="its first sentence">``, linking nothing, so that tab order and reading
stay as they were; /glossary/ has the full definitions.

The terms are read once per request, lazily (``glossary_terms`` in the template
context, from ``findings.context_processors``), and kept in the public cache until
the next publish: a page that shows no glossed text runs no query for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.utils.functional import SimpleLazyObject
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from curation.cache import public_cache_get_or_set
from findings.models import GlossaryTerm


@dataclass(frozen=True)
class Gloss:
    written: str  # as the text writes it
    slug: str
    title: str  # the definition's first sentence


def glossary_entries() -> list[Gloss]:
    """Every way each published term is written, longest first (so that "E:T ratios"
    is matched before "E:T ratio")."""
    entries = [
        Gloss(written=written, slug=term.slug, title=term.short_definition)
        for term in GlossaryTerm.objects.published()
        for written in (term.term, *term.written_list)
    ]
    return sorted(entries, key=lambda e: (-len(e.written), e.written))


def glossary_lazy() -> SimpleLazyObject:
    return SimpleLazyObject(lambda: public_cache_get_or_set("glossary", glossary_entries))


@lru_cache(maxsize=2048)
def _pattern(written: str) -> re.Pattern:
    # Whole words only: "CI" never inside "CIRCLE"; "NKH1+T3-" ends in a sign, so the
    # boundary is checked against word characters, not with \b. A term written in
    # lower case ("meta-analysis") matches any case; "CI" or "CD56bright" only as written.
    flags = re.IGNORECASE if written.islower() else 0
    return re.compile(rf"(?<![\w+-]){re.escape(written)}(?![\w+])", flags)


@lru_cache(maxsize=2048)
def _escaped(written: str) -> str:
    return str(escape(written))


def gloss(text: str, entries) -> SafeString:
    """``text``, escaped, with the first occurrence of each term marked up."""
    html = str(conditional_escape(text or ""))
    if not entries:
        return mark_safe(html)
    done: set[str] = set()
    taken: list[tuple[int, int]] = []
    marks: list[tuple[int, int, Gloss]] = []
    # Most texts hold none of the terms: a plain substring test rules a term out first.
    # Only where it is exact: on ASCII text and terms (under re.IGNORECASE a few other
    # letters match ASCII ones: the Kelvin sign a "k", the long s an "s").
    folded = html.lower() if html.isascii() else None
    for entry in entries:
        if entry.slug in done:
            continue
        written = _escaped(entry.written)
        if (
            folded is not None
            and written.isascii()
            and written not in (folded if written.islower() else html)
        ):
            continue
        for match in _pattern(written).finditer(html):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            marks.append((start, end, entry))
            taken.append((start, end))
            done.add(entry.slug)
            break
    for start, end, entry in sorted(marks, key=lambda m: m[0], reverse=True):
        html = (
            f'{html[:start]}<abbr class="gloss" title="{escape(entry.title)}">'
            f"{html[start:end]}</abbr>{html[end:]}"
        )
    # Safe: built from escaped text, escaped titles and our own markup.
    return mark_safe(html)
