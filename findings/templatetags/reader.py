"""Small helpers for readers' templates."""

import re

from django import template

from findings.glossary import gloss as gloss_text
from findings.models import LEVEL_SHORT, Source

register = template.Library()


@register.filter
def level_name(letter: str | None) -> str:
    """'B' → 'Controlled': the word that goes with the colour and the letter."""
    return LEVEL_SHORT.get(letter or "", "")


@register.inclusion_tag("_level.html")
def level_badge(letter: str | None, *, words: bool = True, direction: str = ""):
    """The level's letter, colour and name; with ``direction`` (a label: 'for',
    'against', 'supports' …) the way its item or items point, beside it."""
    return {
        "letter": letter,
        "name": LEVEL_SHORT.get(letter or "", ""),
        "words": words,
        "direction": direction,
    }


@register.inclusion_tag("_counts.html")
def counts_line(counts, *, pair: str = "", level: bool = True):
    """The one line of counts every page shows for a pair or a therapy (``counts``: the
    stored EvidenceCounts, treatments/counts.py): its strongest level with the way it
    points, then for · against · other, contested items named. ``data-`` attributes
    carry the same numbers, for tests and scripts."""
    return {"c": counts, "pair": pair, "level": level}


@register.filter
def citation(source) -> str:
    """'Brenu 2011: Immunological abnormalities …' with the whole title (``str(source)``
    cuts it at 80 characters, which is for the admin)."""
    return source.citation_with(source.title)


@register.filter
def gloss(text: str, terms=None):
    """``{{ item.statement|gloss:glossary_terms }}``: the text with the glossary's terms
    explained where they first occur (findings/glossary.py); escaped."""
    return gloss_text(text, terms or [])


# A citation key's shape: lower-case words joined by underscores ("baraniuk2024_nk_meta",
# "reg_hbot_cfs_status"); field names quoted in notes ("outcome_summary") share it.
KEY_SHAPE = re.compile(r"(?<![\w/.@-])([a-z][a-z0-9]*(?:_[a-z0-9*]+)+)(?![\w])")
# What only a key looks like: a year after a name, or a kind of record first.
KEY_ONLY = re.compile(r"^(?:[a-z]+[0-9]{4}_|(?:reg|nct|kb|seed)_)")


@register.filter
def cite_keys(text: str) -> str:
    """Provenance text as readers read it. A verification note quotes the checked
    references' notes verbatim, keys and field names and all: a key becomes its
    source's "Author Year" (a key no source holds, such as a document's second key in
    the checked references, becomes words), a field name becomes words ("outcome
    summary"). One query, only when the text holds something key-shaped."""
    found = set(KEY_SHAPE.findall(text or ""))
    if not found:
        return text
    cited = {s.key: s.short_citation for s in Source.objects.filter(key__in=found)}

    def words(match: re.Match) -> str:
        key = match.group(1)
        if key in cited:
            return cited[key]
        if key.endswith("_*"):
            return "the records listed with it"
        if KEY_ONLY.match(key):
            return "a second entry"
        return key.replace("_", " ")

    return KEY_SHAPE.sub(words, text)
