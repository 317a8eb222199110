"""Small helpers for readers' templates."""

from django import template

from findings.models import LEVEL_SHORT

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
    return f"{source.first_author or 'Anon.'} {source.year or 'n.d.'}: {source.title}"
