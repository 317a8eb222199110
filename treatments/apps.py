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

        # SQLite's trigram indexes (findings/fulltext.py) over the searched fields.
        from findings import fulltext
        from treatments.models import Therapy, TherapyEvidence
        from treatments.search import SEARCH_FIELDS

        for model in (Therapy, TherapyEvidence):
            fulltext.register(model._meta.db_table, SEARCH_FIELDS[model])
