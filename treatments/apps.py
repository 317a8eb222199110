from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatments and evidence"

    def ready(self):
        # Certainty ratings follow what readers see: curation tells us each publish,
        # retraction and accepted suggestion without knowing our models.
        from curation.versions import data_version_subscribe
        from treatments.certainty import certainty_on_change

        data_version_subscribe(certainty_on_change)
