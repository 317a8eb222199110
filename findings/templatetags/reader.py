"""Small helpers for readers' templates."""

from django import template

from findings.glossary import gloss as gloss_text
from findings.models import LEVEL_SHORT

register = template.Library()


@register.filter
def level_name(letter: str | None) -> str:
    """'B' → 'Controlled': the word that goes with the colour and the letter."""
    return LEVEL_SHORT.get(letter or "", "")


@register.inclusion_tag("_level.html")
def level_badge(letter: str | None, *, words: bool = True):
    return {"letter": letter, "name": LEVEL_SHORT.get(letter or "", ""), "words": words}


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
