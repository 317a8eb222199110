"""Harms become records (issue 13): the Harm model, sourced and reviewed like any claim.

Therapy.harms, the free text they replace, is renamed legacy_harms and kept read-only."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0005_source_duplicate_on_field"),
        ("treatments", "0007_history_reason_in_full"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The free text is kept under a new name, read-only and hidden from readers, the
        # API and releases: renamed, not dropped, so that nothing a curator typed is lost
        # (its history rows keep it too). The seed's harms arrive as Harm records with
        # `load_seed --update`, each with its source and a history note.
        migrations.RenameField(model_name="therapy", old_name="harms", new_name="legacy_harms"),
        migrations.RenameField(
            model_name="historicaltherapy", old_name="harms", new_name="legacy_harms"
        ),
        migrations.AlterField(
            model_name="therapy",
            name="legacy_harms",
            field=models.TextField(
                blank=True,
                editable=False,
                help_text="Read-only: the free text kept before harms became harm records. Enter harms as harm records, each with its source.",
                verbose_name="known harms (old free text)",
            ),
        ),
        migrations.AlterField(
            model_name="historicaltherapy",
            name="legacy_harms",
            field=models.TextField(
                blank=True,
                editable=False,
                help_text="Read-only: the free text kept before harms became harm records. Enter harms as harm records, each with its source.",
                verbose_name="known harms (old free text)",
            ),
        ),
        migrations.CreateModel(
            name="HistoricalHarm",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted for review"),
                            ("published", "Published"),
                            ("rejected", "Rejected"),
                            ("retracted", "Retracted"),
                        ],
                        db_index=True,
                        default="draft",
                        help_text="Only published records are shown to readers. Curators create and submit; editors publish or reject, never their own submissions.",
                        max_length=12,
                    ),
                ),
                ("reviewed_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "review_note",
                    models.TextField(
                        blank=True,
                        help_text="The editor's reason for publishing, rejecting or retracting.",
                    ),
                ),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("updated_at", models.DateTimeField(blank=True, editable=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("adverse_effect", "Adverse effect"),
                            (
                                "tolerability",
                                "Tolerability (overall: well tolerated, none reported)",
                            ),
                            ("regulator", "Regulator's warning or safety judgement"),
                            ("contraindication", "Contraindication"),
                            ("interaction", "Interaction with another treatment"),
                        ],
                        max_length=20,
                        verbose_name="kind of harm",
                    ),
                ),
                (
                    "effect",
                    models.CharField(
                        help_text="What happened or may happen, in a few words, as the source names it (e.g. 'sinus pain, ear pressure'; 'no adverse events').",
                        max_length=300,
                    ),
                ),
                (
                    "frequency",
                    models.CharField(
                        blank=True,
                        help_text="How often, as the source reports it, in its words or numbers ('20% of both groups', 'common'). Leave empty when the source does not say; never estimate.",
                        max_length=300,
                        verbose_name="how often",
                    ),
                ),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("mild", "Mild"),
                            ("moderate", "Moderate"),
                            ("serious", "Serious"),
                            ("life_threatening", "Life-threatening"),
                            ("not_stated", "Not stated"),
                        ],
                        default="not_stated",
                        help_text="As the source grades it. 'Not stated' unless the source says.",
                        max_length=20,
                    ),
                ),
                (
                    "control_comparison",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("more_than_control", "More often than with the control (placebo)"),
                            ("also_with_control", "Also seen with the control (placebo)"),
                            ("no_control", "No control group"),
                            ("not_stated", "Not stated"),
                        ],
                        help_text="Whether the source saw it more often than with placebo. 'No control group': nothing shows whether the therapy caused it, or whether a rare harm was missed. Leave empty where it does not apply (a regulator's warning, a contraindication).",
                        max_length=20,
                        verbose_name="compared with the control group",
                    ),
                ),
                (
                    "population",
                    models.CharField(
                        help_text="Who it was reported in (e.g. '30 adults with CFS, 15 given IVIG'), or whom a warning is about.",
                        max_length=300,
                    ),
                ),
                ("statement", models.TextField(help_text="What the source says, in our words.")),
                (
                    "quote",
                    models.TextField(
                        blank=True,
                        help_text="Text copied verbatim from the source, or nothing. Never a summary.",
                    ),
                ),
                (
                    "curator_note",
                    models.TextField(
                        blank=True,
                        help_text="Caveats for readers: what the source did not measure or compare.",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.TextField(null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="findings.source",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "therapy",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="treatments.therapy",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical harm",
                "verbose_name_plural": "historical harms",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Harm",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted for review"),
                            ("published", "Published"),
                            ("rejected", "Rejected"),
                            ("retracted", "Retracted"),
                        ],
                        db_index=True,
                        default="draft",
                        help_text="Only published records are shown to readers. Curators create and submit; editors publish or reject, never their own submissions.",
                        max_length=12,
                    ),
                ),
                ("reviewed_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "review_note",
                    models.TextField(
                        blank=True,
                        help_text="The editor's reason for publishing, rejecting or retracting.",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("adverse_effect", "Adverse effect"),
                            (
                                "tolerability",
                                "Tolerability (overall: well tolerated, none reported)",
                            ),
                            ("regulator", "Regulator's warning or safety judgement"),
                            ("contraindication", "Contraindication"),
                            ("interaction", "Interaction with another treatment"),
                        ],
                        max_length=20,
                        verbose_name="kind of harm",
                    ),
                ),
                (
                    "effect",
                    models.CharField(
                        help_text="What happened or may happen, in a few words, as the source names it (e.g. 'sinus pain, ear pressure'; 'no adverse events').",
                        max_length=300,
                    ),
                ),
                (
                    "frequency",
                    models.CharField(
                        blank=True,
                        help_text="How often, as the source reports it, in its words or numbers ('20% of both groups', 'common'). Leave empty when the source does not say; never estimate.",
                        max_length=300,
                        verbose_name="how often",
                    ),
                ),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("mild", "Mild"),
                            ("moderate", "Moderate"),
                            ("serious", "Serious"),
                            ("life_threatening", "Life-threatening"),
                            ("not_stated", "Not stated"),
                        ],
                        default="not_stated",
                        help_text="As the source grades it. 'Not stated' unless the source says.",
                        max_length=20,
                    ),
                ),
                (
                    "control_comparison",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("more_than_control", "More often than with the control (placebo)"),
                            ("also_with_control", "Also seen with the control (placebo)"),
                            ("no_control", "No control group"),
                            ("not_stated", "Not stated"),
                        ],
                        help_text="Whether the source saw it more often than with placebo. 'No control group': nothing shows whether the therapy caused it, or whether a rare harm was missed. Leave empty where it does not apply (a regulator's warning, a contraindication).",
                        max_length=20,
                        verbose_name="compared with the control group",
                    ),
                ),
                (
                    "population",
                    models.CharField(
                        help_text="Who it was reported in (e.g. '30 adults with CFS, 15 given IVIG'), or whom a warning is about.",
                        max_length=300,
                    ),
                ),
                ("statement", models.TextField(help_text="What the source says, in our words.")),
                (
                    "quote",
                    models.TextField(
                        blank=True,
                        help_text="Text copied verbatim from the source, or nothing. Never a summary.",
                    ),
                ),
                (
                    "curator_note",
                    models.TextField(
                        blank=True,
                        help_text="Caveats for readers: what the source did not measure or compare.",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="harms",
                        to="findings.source",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "therapy",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="harms",
                        to="treatments.therapy",
                    ),
                ),
            ],
            options={
                "verbose_name": "harm",
                "ordering": ["therapy__name", "kind", "pk"],
                "permissions": [("review_harm", "Can publish, reject or retract harms")],
                "abstract": False,
                "indexes": [models.Index(fields=["therapy", "status"], name="harm_therapy_status")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "status__in",
                                ["draft", "submitted", "published", "rejected", "retracted"],
                            )
                        ),
                        name="treatments_harm_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "adverse_effect",
                                    "tolerability",
                                    "regulator",
                                    "contraindication",
                                    "interaction",
                                ],
                            )
                        ),
                        name="treatments_harm_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "severity__in",
                                ["mild", "moderate", "serious", "life_threatening", "not_stated"],
                            )
                        ),
                        name="treatments_harm_severity_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "control_comparison__in",
                                [
                                    "more_than_control",
                                    "also_with_control",
                                    "no_control",
                                    "not_stated",
                                    "",
                                ],
                            )
                        ),
                        name="treatments_harm_control_comparison_valid",
                    ),
                ],
            },
        ),
    ]
