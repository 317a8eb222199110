"""The curators' admin for sources, abnormalities, lab tests and findings."""

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html

from curation.admin import (
    ModeratedAdmin,
    ModeratedForm,
    ModeratedInline,
    breakable,
    choice_cell,
    excerpt_cell,
    with_title,
)
from curation.models import excerpt
from findings.admin_import import import_urls
from findings.duplicates import DUPLICATE_FIELDSET, DuplicateWarningFormMixin
from findings.lookup.admin_views import NoticeFilter, SourceLookupAdminMixin
from findings.models import Abnormality, Finding, GlossaryTerm, LabTest, Source
from findings.readability import PLAIN_GRADE_MAX, reading_grade, reading_grade_advice

# The structured study fields (issue 12) on a claim's page, beside the free text.
STUDY_FIELDSET = (
    "Study, structured (what the certainty rating reads)",
    {
        "fields": [
            "design",
            ("patients", "controls"),
            ("blinding", "comparator", "selected_for_abnormality"),
            ("primary_outcome", "outcome_type"),
            ("effect_measure", "effect_value", "effect_ci_low", "effect_ci_high"),
            "follow_up_weeks",
            ("risk_of_bias", "risk_of_bias_reason"),
        ],
        "description": "Fill only what the source says; leave 'not reported' or empty "
        "otherwise, never a guess.",
    },
)
# The same fields in a claim's inline row, a few to a line.
STUDY_INLINE_ROWS = [
    ("design", "patients", "controls", "follow_up_weeks"),
    ("blinding", "comparator", "selected_for_abnormality"),
    ("primary_outcome", "outcome_type"),
    ("effect_measure", "effect_value", "effect_ci_low", "effect_ci_high"),
    ("risk_of_bias", "risk_of_bias_reason"),
]


class FindingInline(ModeratedInline, admin.StackedInline):
    model = Finding
    fk_name = "source"
    autocomplete_fields = ["abnormality", "lab_test"]
    fields = [
        ("abnormality", "lab_test"),
        "statement",
        "plain_summary",
        "quote",
        ("level", "direction", "status"),
        ("study_design", "participants", "case_definition"),
        *STUDY_INLINE_ROWS,
        "curator_note",
    ]


class FindingOfAbnormalityInline(FindingInline):
    fk_name = "abnormality"
    autocomplete_fields = ["source", "lab_test"]
    fields = [
        ("source", "lab_test"),
        "statement",
        "plain_summary",
        "quote",
        ("level", "direction", "status"),
        ("study_design", "participants", "case_definition"),
        *STUDY_INLINE_ROWS,
        "curator_note",
    ]


class PlainSummaryAdmin:
    """A claim's plain-language summary right under its statement, with its reading
    grade (findings/readability.py). A grade above the aim is a warning when the claim
    is saved, never a refusal: the measure is an estimate, and a draft is work in
    progress. An empty summary is refused only at publishing (curation's rule)."""

    @admin.display(description="reading grade of the plain summary")
    def plain_summary_reading(self, obj) -> str:
        return reading_grade_advice(obj.plain_summary if obj is not None else "")

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "plain_summary_reading"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        text = form.cleaned_data.get("plain_summary") or ""
        if text.strip() and reading_grade(text) > PLAIN_GRADE_MAX:
            self.message_user(
                request,
                f"Saved, but the plain-language summary is hard to read. "
                f"{reading_grade_advice(text)}",
                messages.WARNING,
            )


class ClaimColumns:
    """List columns of a sourced claim (findings, therapy evidence): the statement's
    start, which tells two claims apart, and short labels with the full ones as
    tooltips. Needs ``source`` in ``list_select_related``."""

    @admin.display(description="statement", ordering="statement")
    def short_statement(self, obj) -> str:
        return excerpt_cell(obj.statement)

    @admin.display(description="source", ordering="source__key")
    def source_key(self, obj) -> str:
        return with_title(breakable(obj.source.key), str(obj.source))

    @admin.display(description="level", ordering="level")
    def level_shown(self, obj) -> str:
        return choice_cell(obj, "level")

    @admin.display(description="direction", ordering="direction")
    def direction_shown(self, obj) -> str:
        return choice_cell(obj, "direction")


class SourceForm(DuplicateWarningFormMixin, ModeratedForm):
    """A source's form: a look-alike of an existing source is a warning (duplicates.py)."""


@admin.register(Source)
class SourceAdmin(SourceLookupAdminMixin, ModeratedAdmin):
    form = SourceForm
    # "Import BibTeX / RIS / PubMed file" beside "Add source" (findings/admin_import.py).
    change_list_template = "admin/findings/source/change_list.html"
    index_group = "evidence"
    index_order = 1
    index_question = "which paper, trial record or web page says it?"
    list_display = [
        "key_shown",
        "short_title",
        "cited_as",
        "kind_shown",
        "identifiers",
        "claim_count",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "kind", "retracted", NoticeFilter, "year"]
    # Explicit: the count annotation groups rows, and grouped queries drop Meta.ordering.
    ordering = ["-year", "title"]
    search_fields = ["key", "title", "authors", "container", "doi", "pmid", "pmcid", "nct_id"]
    list_per_page = 50
    inlines = [FindingInline]
    review_with_claims = True
    fieldsets = [
        (
            None,
            {"fields": ["key", "kind", "title", "authors", "container", "year", "published_on"]},
        ),
        (
            "Identifiers and links",
            {"fields": ["doi", "pmid", "pmcid", "nct_id", "url", "accessed_on"]},
        ),
        ("Abstract", {"fields": ["publication_type", "abstract"]}),
        (
            "Reliability",
            {
                "fields": [
                    "retracted",
                    "retraction_note",
                    ("notice_kind", "notice_date"),
                    ("notice_doi", "notice_url"),
                    "notices_checked_on",
                    "verification_note",
                ]
            },
        ),
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_findings=Count("findings", distinct=True))

    def get_urls(self):
        return [*import_urls(self), *super().get_urls()]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # A page shown again after a save was refused may carry the duplicate warning:
        # then the curator can say it is a different document.
        return [*fieldsets, DUPLICATE_FIELDSET] if request.method == "POST" else fieldsets

    @admin.display(description="key", ordering="key")
    def key_shown(self, obj: Source) -> str:
        return breakable(obj.key)

    @admin.display(description="title", ordering="title")
    def short_title(self, obj: Source) -> str:
        return excerpt_cell(obj.title, 70)

    @admin.display(description="first author, year", ordering="year")
    def cited_as(self, obj: Source) -> str:
        """As a citation names it: "Strayer DR 1994"."""
        who = excerpt(obj.first_author, 24) if obj.first_author else "Anon."
        shown = f"{who} {obj.year or 'n.d.'}"
        full = f"{obj.authors or 'No authors recorded'} ({obj.year or 'no year recorded'})"
        return with_title(shown, full)

    @admin.display(description="kind", ordering="kind")
    def kind_shown(self, obj: Source) -> str:
        return choice_cell(obj, "kind")

    @admin.display(description="identifiers")
    def identifiers(self, obj: Source) -> str:
        """Which identifiers it has (DOI, PMID, PMC, NCT), their values as the tooltip; the
        search box finds a source by any of them."""
        held = [(label, value) for label, value in self._identifiers(obj) if value]
        if not held:
            return "—"
        return with_title(
            " · ".join(label for label, _ in held),
            "; ".join(f"{label} {value}" for label, value in held),
        )

    @staticmethod
    def _identifiers(obj: Source) -> list[tuple[str, str]]:
        return [("DOI", obj.doi), ("PMID", obj.pmid), ("PMC", obj.pmcid), ("NCT", obj.nct_id)]

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj: Source) -> str:
        """Its review status, and under it whether its publisher retracted it."""
        shown = super().status_shown(obj)
        if not obj.retracted:
            return shown
        return format_html(
            '{}<span class="publisher-retracted">retracted by publisher</span>', shown
        )

    @admin.display(description="findings", ordering="_findings")
    def claim_count(self, obj: Source) -> int:
        return obj._findings


@admin.register(Abnormality)
class AbnormalityAdmin(ModeratedAdmin):
    index_group = "subjects"
    index_order = 1
    index_question = "what in the immune system is abnormal in ME/CFS?"
    list_display = [
        "name",
        "category_shown",
        "component",
        "change",
        "finding_count",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "category", "change"]
    ordering = ["name"]
    search_fields = ["name", "slug", "aliases", "component"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FindingOfAbnormalityInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "aliases",
                    "alias_sources",
                    "category",
                    "component",
                    "change",
                ]
            },
        ),
        ("For readers", {"fields": ["summary", "details"]}),
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_findings=Count("findings"))

    @admin.display(description="findings", ordering="_findings")
    def finding_count(self, obj: Abnormality) -> int:
        return obj._findings

    @admin.display(description="category", ordering="category")
    def category_shown(self, obj: Abnormality) -> str:
        return choice_cell(obj, "category")


@admin.register(LabTest)
class LabTestAdmin(ModeratedAdmin):
    index_group = "subjects"
    index_order = 3
    index_question = "how is this abnormality measured?"
    list_display = [
        "name",
        "measures_excerpt",
        "specimen",
        "availability_shown",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "availability"]
    search_fields = ["name", "measures", "specimen"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["abnormalities"]

    @admin.display(description="what it measures")
    def measures_excerpt(self, obj: LabTest) -> str:
        return excerpt_cell(obj.measures, 70)

    @admin.display(description="availability", ordering="availability")
    def availability_shown(self, obj: LabTest) -> str:
        return choice_cell(obj, "availability")


@admin.register(Finding)
class FindingAdmin(PlainSummaryAdmin, ClaimColumns, ModeratedAdmin):
    index_group = "evidence"
    index_order = 2
    index_question = "is this abnormality seen in ME/CFS?"
    # The statement tells two findings apart (one source often makes several claims
    # about one abnormality); the other columns are short, full labels as tooltips.
    list_display = [
        "short_statement",
        "about",
        "source_key",
        "level_shown",
        "direction_shown",
        "author",
        "status_shown",
    ]
    list_filter = ["status", "level", "direction", "case_definition", "abnormality"]
    list_select_related = ["abnormality", "source", "lab_test"]
    search_fields = [
        "statement",
        "plain_summary",
        "quote",
        "source__title",
        "source__key",
        "abnormality__name",
    ]
    autocomplete_fields = ["abnormality", "lab_test", "source", "contradicted_by"]
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "abnormality",
                    "lab_test",
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
                ]
            },
        ),
        STUDY_FIELDSET,
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    @admin.display(description="about", ordering="abnormality__name")
    def about(self, obj: Finding) -> str:
        if obj.abnormality_id and obj.lab_test_id:
            return f"{obj.abnormality} (test: {obj.lab_test})"
        return str(obj.abnormality or obj.lab_test)


admin.site.site_header = "ME/CFS Immune Knowledge Base — curators"
admin.site.site_title = "ME/CFS KB admin"
admin.site.index_title = "Curate sources and claims"


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(ModeratedAdmin):
    index_group = "subjects"
    index_order = 4
    index_question = "what does this word or measure mean?"
    list_display = ["term", "definition_excerpt", "author", "status_shown"]
    list_filter = ["status"]
    ordering = ["term"]
    search_fields = ["term", "written", "definition"]
    prepopulated_fields = {"slug": ["term"]}
    autocomplete_fields = ["source"]
    fieldsets = [
        (None, {"fields": ["term", "slug", "written"]}),
        ("For readers", {"fields": ["definition", "source", "source_note"]}),
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    @admin.display(description="definition")
    def definition_excerpt(self, obj: GlossaryTerm) -> str:
        return excerpt_cell(obj.definition, 80)
