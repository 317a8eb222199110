from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments and evidence"

    def ready(self):
        # Installed here, once every curated model (findings' and ours) is loaded.
        from mecfs_kb.cache import connect_invalidation_signals

        connect_invalidation_signals()
