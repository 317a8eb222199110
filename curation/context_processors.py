from django.utils.functional import SimpleLazyObject

from curation.versions import data_version_of


def data_version(request) -> dict:
    """``{{ data_version.number }}`` and ``.created_at`` for the page footer. Lazy: a
    template that never shows it (the admin's) costs no query."""
    return {"data_version": SimpleLazyObject(lambda: data_version_of(request))}
