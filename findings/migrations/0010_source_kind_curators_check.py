"""Source kind "curators_check": a finding of this knowledge base's own reference check (issue 13.5)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0009_source_publisher_notices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="source",
            name="findings_source_kind_valid",
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="kind",
            field=models.CharField(
                choices=[
                    ("journal_article", "Journal article"),
                    ("review", "Review"),
                    ("preprint", "Preprint (not peer reviewed)"),
                    ("trial_registry", "Trial registry entry"),
                    ("regulatory_document", "Regulatory document"),
                    ("web_article", "Web article"),
                    ("book", "Book"),
                    ("patent", "Patent"),
                    ("curators_check", "Check by this knowledge base's curators"),
                ],
                max_length=24,
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="kind",
            field=models.CharField(
                choices=[
                    ("journal_article", "Journal article"),
                    ("review", "Review"),
                    ("preprint", "Preprint (not peer reviewed)"),
                    ("trial_registry", "Trial registry entry"),
                    ("regulatory_document", "Regulatory document"),
                    ("web_article", "Web article"),
                    ("book", "Book"),
                    ("patent", "Patent"),
                    ("curators_check", "Check by this knowledge base's curators"),
                ],
                max_length=24,
            ),
        ),
        migrations.AddConstraint(
            model_name="source",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "journal_article",
                            "review",
                            "preprint",
                            "trial_registry",
                            "regulatory_document",
                            "web_article",
                            "book",
                            "patent",
                            "curators_check",
                        ],
                    )
                ),
                name="findings_source_kind_valid",
            ),
        ),
    ]
