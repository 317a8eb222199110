"""The curators' admin for sources, abnormalities, lab tests and findings."""

from django.contrib import admin
from django.db.models import Count

from curation.admin import ModeratedAdmin, ModeratedForm, ModeratedInline
from findings.admin_import import import_urls
from findings.duplicates import DUPLICATE_FIELDSET, DuplicateWarningFormMixin
from findings.lookup.admin_views import NoticeFilter, SourceLookupAdminMixin
from findings.models import Abnormality, Finding, LabTest, Source


class FindingInline(ModeratedInline, admin.StackedInline):
    model = Finding
    fk_name = "source"
    autocomplete_fields = ["abnormality", "lab_test"]
    fields = [
        ("abnormality", "lab_test"),
        "statement",
        "quote",
        ("level", "direction", "status"),
        ("study_design", "participants", "case_definition"),
        "curator_note",
    ]


class FindingOfAbnormalityInline(FindingInline):
    fk_name = "abnormality"
    autocomplete_fields = ["source", "lab_test"]
    fields = [
        ("source", "lab_test"),
        "statement",
        "quote",
        ("level", "direction", "status"),
        ("study_design", "participants", "case_definition"),
        "curator_note",
    ]


class SourceForm(DuplicateWarningFormMixin, ModeratedForm):
    """A source's form: a look-alike of an existing source is a warning (duplicates.py)."""


@admin.register(Source)
class SourceAdmin(SourceLookupAdminMixin, ModeratedAdmin):
    form = SourceForm
    # "Import BibTeX / RIS / PubMed file" beside "Add source" (findings/admin_import.py).
    change_list_template = "admin/findings/source/change_list.html"
    list_display = [
        "key",
        "short_title",
        "first_author",
        "year",
        "kind",
        "doi",
        "pmid",
        "claim_count",
        "status",
        "retracted",
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

    @admin.display(description="title", ordering="title")
    def short_title(self, obj: Source) -> str:
        return obj.title if len(obj.title) <= 90 else obj.title[:88] + "…"

    @admin.display(description="first author", ordering="authors")
    def first_author(self, obj: Source) -> str:
        return obj.first_author or "—"

    @admin.display(description="findings", ordering="_findings")
    def claim_count(self, obj: Source) -> int:
        return obj._findings


@admin.register(Abnormality)
class AbnormalityAdmin(ModeratedAdmin):
    list_display = ["name", "category", "component", "change", "finding_count", "status"]
    list_filter = ["status", "category", "change"]
    ordering = ["name"]
    search_fields = ["name", "slug", "aliases", "component"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FindingOfAbnormalityInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "aliases", "category", "component", "change"]}),
        ("For readers", {"fields": ["summary", "details"]}),
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_findings=Count("findings"))

    @admin.display(description="findings", ordering="_findings")
    def finding_count(self, obj: Abnormality) -> int:
        return obj._findings


@admin.register(LabTest)
class LabTestAdmin(ModeratedAdmin):
    list_display = ["name", "specimen", "availability", "status"]
    list_filter = ["status", "availability"]
    search_fields = ["name", "measures", "specimen"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["abnormalities"]


@admin.register(Finding)
class FindingAdmin(ModeratedAdmin):
    list_display = ["short_statement", "abnormality", "source", "level", "direction", "status"]
    list_filter = ["status", "level", "direction", "case_definition", "abnormality"]
    list_select_related = ["abnormality", "source", "lab_test"]
    search_fields = ["statement", "quote", "source__title", "source__key", "abnormality__name"]
    autocomplete_fields = ["abnormality", "lab_test", "source", "contradicted_by"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["abnormality", "lab_test", "source", "statement", "quote"]}),
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
        ("Review", {"fields": ["status", "review_note", *ModeratedAdmin.moderation_fields]}),
    ]

    @admin.display(description="statement", ordering="statement")
    def short_statement(self, obj: Finding) -> str:
        return obj.statement if len(obj.statement) <= 100 else obj.statement[:98] + "…"


admin.site.site_header = "ME/CFS Immune Knowledge Base — curators"
admin.site.site_title = "ME/CFS KB admin"
admin.site.index_title = "Curate sources and claims"
