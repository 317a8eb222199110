"""Template context for readers' pages."""

from findings.glossary import glossary_lazy


def glossary(request):
    """The glossary's terms, read only if a template glosses a text (findings/glossary.py)."""
    return {"glossary_terms": glossary_lazy()}
