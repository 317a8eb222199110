"""The curators' admin for therapies, their evidence, regulatory statuses and harms."""

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html, format_html_join

from curation.admin import breakable, choice_cell, excerpt_cell, with_title
from findings.admin import (
    STUDY_FIELDSET,
    STUDY_INLINE_ROWS,
    ClaimColumns,
    FindingInline,
    ModeratedAdmin,
    ModeratedInline,
    PlainSummaryAdmin,
    SourceAdmin,
)
from findings.models import Source
from treatments.models import (
    CertaintyOverride,
    Harm,
    PairCertainty,
    RegulatoryStatus,
    Therapy,
    TherapyEvidence,
)


class TherapyEvidenceInline(ModeratedInline, admin.StackedInline):
    model = TherapyEvidence
    fk_name = "therapy"
    autocomplete_fields = ["abnormality", "source"]
    fields = [
        ("abnormality", "link_kind", "source"),
        "statement",
        "plain_summary",
        "quote",
        ("level", "direction", "status"),
        ("study_design", "participants", "case_definition"),
        *STUDY_INLINE_ROWS,
        "curator_note",
    ]


class EvidenceOfSourceInline(TherapyEvidenceInline):
    fk_name = "source"
    autocomplete_fields = ["therapy", "abnormality"]
    fields = [
        ("therapy", "abnormality", "link_kind"),
        "statement",
        "plain_summary",
        "quote",
        ("level", "direction", "status"),
        ("study_design", "participants", "case_definition"),
        *STUDY_INLINE_ROWS,
        "curator_note",
    ]


class RegulatoryStatusInline(ModeratedInline, admin.TabularInline):
    model = RegulatoryStatus
    fk_name = "therapy"
    autocomplete_fields = ["source"]
    fields = [
        "jurisdiction",
        "regulatory_status",
        "date",
        "date_note",
        "statement",
        "source",
        "status",
    ]


class RegulatoryOfSourceInline(RegulatoryStatusInline):
    fk_name = "source"
    autocomplete_fields = ["therapy"]
    fields = [
        "therapy",
        "jurisdiction",
        "regulatory_status",
        "date",
        "date_note",
        "statement",
        "status",
    ]


class HarmInline(ModeratedInline, admin.StackedInline):
    model = Harm
    fk_name = "therapy"
    autocomplete_fields = ["source"]
    fields = [
        ("kind", "source"),
        ("effect", "severity"),
        ("frequency", "control_comparison"),
        "population",
        "statement",
        "quote",
        "curator_note",
        "status",
    ]


class HarmOfSourceInline(HarmInline):
    fk_name = "source"
    autocomplete_fields = ["therapy"]
    fields = [
        ("therapy", "kind"),
        ("effect", "severity"),
        ("frequency", "control_comparison"),
        "population",
        "statement",
        "quote",
        "curator_note",
        "status",
    ]


# A curator thinks "this source makes these claims": the Source page shows them all,
# findings (from the findings app) and therapy evidence (from this one).
admin.site.unregister(Source)


@admin.register(Source)
class SourceWithEvidenceAdmin(SourceAdmin):
    inlines = [FindingInline, EvidenceOfSourceInline, RegulatoryOfSourceInline, HarmOfSourceInline]


@admin.register(Therapy)
class TherapyAdmin(ModeratedAdmin):
    index_group = "subjects"
    index_order = 2
    index_question = "what is proposed against it, and how far has it come?"
    list_display = [
        "name",
        "alias_summary",
        "kind",
        "stage_shown",
        "evidence_count",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "kind", "stage"]
    ordering = ["name"]
    search_fields = ["name", "slug", "aliases", "mechanism"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TherapyEvidenceInline, RegulatoryStatusInline, HarmInline]
    fieldsets = [
        (
            None,
            {"fields": ["name", "slug", "aliases", "alias_sources", "kind", "stage", "mechanism"]},
        ),
        ("For readers", {"fields": ["summary"]}),
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.legacy_harms:
            return fieldsets
        # The free text harm records replaced, shown read-only so that a curator can
        # turn what it says into sourced harm records (below); readers never see it.
        return [
            *fieldsets,
            (
                "Old free-text harms (read-only, not shown to readers)",
                {"fields": ["legacy_harms"], "classes": ["collapse"]},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "legacy_harms"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_evidence=Count("evidence"))

    @admin.display(description="also known as")
    def alias_summary(self, obj: Therapy) -> str:
        return excerpt_cell(", ".join(obj.alias_list), 40)

    @admin.display(description="evidence items", ordering="_evidence")
    def evidence_count(self, obj: Therapy) -> int:
        return obj._evidence

    @admin.display(description="stage", ordering="stage")
    def stage_shown(self, obj: Therapy) -> str:
        return choice_cell(obj, "stage")


@admin.register(TherapyEvidence)
class TherapyEvidenceAdmin(PlainSummaryAdmin, ClaimColumns, ModeratedAdmin):
    index_group = "evidence"
    index_order = 3
    index_question = "does this therapy act on it?"
    # The statement tells two items about one pair apart; the other columns are short,
    # full labels as tooltips, so that author and status fit at 1366 px.
    list_display = [
        "short_statement",
        "therapy",
        "about",
        "link_kind_shown",
        "level_shown",
        "direction_shown",
        "source_key",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "level", "link_kind", "direction", "therapy", "abnormality"]
    list_select_related = ["therapy", "abnormality", "source"]
    search_fields = [
        "statement",
        "plain_summary",
        "quote",
        "therapy__name",
        "therapy__aliases",
        "abnormality__name",
        "source__title",
        "source__key",
    ]
    autocomplete_fields = [
        "therapy",
        "abnormality",
        "source",
        "contradicted_by",
        "contradicting_findings",
    ]
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "therapy",
                    "abnormality",
                    "link_kind",
                    "source",
                    "statement",
                    "plain_summary",
                    "plain_summary_reading",
                    "quote",
                ]
            },
        ),
        (
            "Evidence",
            {
                "fields": [
                    "level",
                    "direction",
                    "study_design",
                    "participants",
                    "case_definition",
                    "curator_note",
                    "contradicted_by",
                    "contradicting_findings",
                ]
            },
        ),
        STUDY_FIELDSET,
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    @admin.display(description="abnormality", ordering="abnormality__name")
    def about(self, obj: TherapyEvidence) -> str:
        return obj.abnormality.name if obj.abnormality_id else "ME/CFS generally"

    @admin.display(description="link", ordering="link_kind")
    def link_kind_shown(self, obj: TherapyEvidence) -> str:
        return choice_cell(obj, "link_kind")


@admin.register(RegulatoryStatus)
class RegulatoryStatusAdmin(ModeratedAdmin):
    index_group = "evidence"
    index_order = 4
    index_question = "where can a patient get this therapy?"
    list_display = [
        "short_statement",
        "therapy",
        "jurisdiction",
        "regulatory_status",
        "when",
        "source_key",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "regulatory_status", "jurisdiction", "therapy"]
    list_select_related = ["therapy", "source"]
    search_fields = ["therapy__name", "jurisdiction", "statement", "source__title"]
    autocomplete_fields = ["therapy", "source"]

    @admin.display(description="statement", ordering="statement")
    def short_statement(self, obj: RegulatoryStatus) -> str:
        return excerpt_cell(obj.statement)

    @admin.display(description="source", ordering="source__key")
    def source_key(self, obj: RegulatoryStatus) -> str:
        return with_title(breakable(obj.source.key), str(obj.source))

    @admin.display(description="date", ordering="date")
    def when(self, obj: RegulatoryStatus) -> str:
        """The date, or the note saying what is known of it."""
        if obj.date:
            return (
                with_title(obj.date.isoformat(), obj.date_note) if obj.date_note else str(obj.date)
            )
        return excerpt_cell(obj.date_note, 24)


@admin.register(CertaintyOverride)
class CertaintyOverrideAdmin(ModeratedAdmin):
    """An editor's rating in place of the computed one (issue 12). It is reviewed like
    any claim: written by one person, published by another editor, kept in history;
    retracting it brings the computed rating back."""

    index_group = "evidence"
    index_order = 7
    index_question = "should a computed certainty rating be overridden, and why?"
    list_display = [
        "therapy",
        "abnormality_or_whole",
        "certainty",
        "net_direction",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "certainty", "net_direction", "therapy"]
    list_select_related = ["therapy", "abnormality"]
    ordering = ["therapy__name", "abnormality__name", "pk"]
    search_fields = ["therapy__name", "abnormality__name", "reason"]
    autocomplete_fields = ["therapy", "abnormality"]
    readonly_fields = ["computed_rating"]
    fieldsets = [
        (None, {"fields": ["therapy", "abnormality", "computed_rating"]}),
        ("The override", {"fields": ["certainty", "net_direction", "reason"]}),
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    @admin.display(description="abnormality")
    def abnormality_or_whole(self, obj: CertaintyOverride) -> str:
        return obj.abnormality.name if obj.abnormality_id else "(the therapy as a whole)"

    @admin.display(description="computed rating")
    def computed_rating(self, obj: CertaintyOverride) -> str:
        if obj.pk is None or not obj.therapy_id:
            return "Shown once the therapy (and abnormality) are chosen and saved."
        rating = PairCertainty.objects.filter(
            therapy_id=obj.therapy_id, abnormality_id=obj.abnormality_id
        ).first()
        if rating is None:
            return "Not rated: no published evidence yet."
        return format_html(
            "<strong>{}</strong>, {}<ul>{}</ul>",
            rating.get_certainty_display(),
            rating.get_net_direction_display().lower(),
            format_html_join("", "<li>{}</li>", ((reason,) for reason in rating.reasons)),
        )


@admin.register(PairCertainty)
class PairCertaintyAdmin(admin.ModelAdmin):
    """The computed ratings, to read: they change only when the evidence does (or with
    ``manage.py certainty_recompute``). To disagree, add a certainty override."""

    index_group = "evidence"
    index_order = 6
    index_question = "how sure are we that this therapy helps, and why?"
    list_display = [
        "therapy",
        "abnormality_or_whole",
        "certainty",
        "net_direction",
        "override",
        "items_counted",
        "computed_at",
    ]
    list_filter = ["certainty", "net_direction", "therapy"]
    list_select_related = ["therapy", "abnormality", "override"]
    search_fields = ["therapy__name", "abnormality__name"]
    fields = [
        "therapy",
        "abnormality",
        "certainty",
        "starting_certainty",
        "net_direction",
        "reason_list",
        "what_would_change",
        "override",
        "items_total",
        "items_counted",
        "studies_counted",
        "participants_counted",
        "evidence_counted",
        "computed_at",
    ]
    readonly_fields = fields

    @admin.display(description="abnormality")
    def abnormality_or_whole(self, obj: PairCertainty) -> str:
        return obj.abnormality.name if obj.abnormality_id else "(the therapy as a whole)"

    @admin.display(description="reasons")
    def reason_list(self, obj: PairCertainty) -> str:
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in obj.reasons))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        # Every curator and editor may read the ratings (they are public anyway).
        return request.user.is_active and request.user.is_staff


@admin.register(Harm)
class HarmAdmin(ModeratedAdmin):
    index_group = "evidence"
    index_order = 5
    index_question = "what harms and risks do the sources report?"
    list_display = [
        "short_effect",
        "therapy",
        "kind",
        "severity",
        "short_frequency",
        "source_key",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "kind", "severity", "control_comparison", "therapy"]
    list_select_related = ["therapy", "source"]
    search_fields = [
        "effect",
        "statement",
        "quote",
        "population",
        "therapy__name",
        "therapy__aliases",
        "source__title",
        "source__key",
    ]
    autocomplete_fields = ["therapy", "source"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["therapy", "kind", "source", "effect", "statement", "quote"]}),
        (
            "How often, how bad, in whom",
            {"fields": ["frequency", "severity", "control_comparison", "population"]},
        ),
        (None, {"fields": ["curator_note"]}),
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    @admin.display(description="effect", ordering="effect")
    def short_effect(self, obj: Harm) -> str:
        return excerpt_cell(obj.effect)

    @admin.display(description="how often", ordering="frequency")
    def short_frequency(self, obj: Harm) -> str:
        return excerpt_cell(obj.frequency, 24) if obj.frequency else "—"

    @admin.display(description="source", ordering="source__key")
    def source_key(self, obj: Harm) -> str:
        return with_title(breakable(obj.source.key), str(obj.source))
