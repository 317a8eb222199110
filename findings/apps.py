from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FindingsConfig(AppConfig):
    name = "findings"
    verbose_name = "Findings and sources"

    def ready(self):
        # SQLite's trigram indexes (findings/fulltext.py): what is indexed, and a check
        # after each migrate that no table rebuild dropped their triggers.
        from findings import fulltext
        from findings.models import Abnormality, Finding, Source

        for model, columns in (
            (Abnormality, ("name", "aliases", "component", "summary")),
            (Source, ("title", "authors", "container")),
            (Finding, ("statement", "plain_summary", "quote")),
        ):
            fulltext.register(model._meta.db_table, columns)
        post_migrate.connect(fulltext.ensure_indexes, sender=self)
