from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Review"

    def ready(self):
        # Every app's models are loaded before any ready() runs: the curated ones are
        # found by their base class, so this app needs to know none of them by name.
        from curation.cache import connect_invalidation_signals

        connect_invalidation_signals()
        # Each app's previews module registers where readers see its records
        # (curation/preview.py), as its admin module registers its admin.
        autodiscover_modules("previews")
        post_migrate.connect(_sync_groups, sender=self, dispatch_uid="curation-groups")


def _sync_groups(**kwargs) -> None:
    """After every ``migrate``: the groups hold the permissions of every curated model,
    those added since the groups' data migration included."""
    from django.apps import apps

    from curation.roles import groups_sync

    groups_sync(apps)
