"""What is known about the immune abnormalities reported in ME/CFS (the second floor,
on ``curation``). ``treatments`` builds on these models; nothing here imports it.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from simple_history.models import HistoricalRecords

from curation.models import Moderated, ModeratedQuerySet, Status, excerpt
from findings.fields import DOIField, NCTField, PMCIDField, PMIDField

# ---------------------------------------------------------------------------
# Evidence fields shared by Finding and TherapyEvidence
# ---------------------------------------------------------------------------


class Level(models.TextChoices):
    A = "A", "A — replicated: two or more independent RCTs, or a meta-analysis, in ME/CFS, agreeing"
    B = "B", "B — controlled: one RCT or controlled clinical study in ME/CFS"
    C = "C", "C — uncontrolled clinical: open-label trial, case series, chart review in ME/CFS"
    D = "D", "D — preclinical or indirect: in vitro, ex vivo, animal, or another condition"
    E = "E", "E — opinion: narrative review, patient-organisation or web article, case report"


LEVEL_HELP = "How strong the evidence is. " + " ".join(label for _, label in Level.choices)

# Short names for the letters, for readers' pages and the API.
LEVEL_SHORT = {
    "A": "Replicated",
    "B": "Controlled",
    "C": "Uncontrolled clinical",
    "D": "Preclinical or indirect",
    "E": "Opinion",
}


class Direction(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    DOES_NOT_SUPPORT = "does_not_support", "Does not support"
    MIXED = "mixed", "Mixed"
    # references.json also uses "describes": a source that reports without
    # taking a side (a registry entry, a label, a review that only describes).
    DESCRIBES = "describes", "Describes (neither for nor against)"


class CaseDefinition(models.TextChoices):
    HOLMES_1988 = "holmes_1988", "Holmes 1988 (CDC)"
    OXFORD_1991 = "oxford_1991", "Oxford 1991"
    FUKUDA_1994 = "fukuda_1994", "Fukuda 1994 (CDC)"
    CANADIAN_2003 = "canadian_2003", "Canadian Consensus Criteria 2003"
    INTERNATIONAL_2011 = "international_2011", "International Consensus Criteria 2011"
    IOM_2015 = "iom_2015", "IOM 2015 (SEID)"
    UNSPECIFIED = "unspecified", "Unspecified"


class EvidenceFields(Moderated):
    """One sourced claim with its strength. ``quote`` is only ever verbatim text."""

    statement = models.TextField(
        help_text="The claim in our words. For a reference summary, the summary goes here."
    )
    quote = models.TextField(
        blank=True,
        help_text="Text copied verbatim from the source, and nothing else. Leave empty when "
        "you only have a summary: a summary is never shown as a quotation.",
    )
    study_design = models.CharField(
        max_length=255,
        blank=True,
        help_text="As the source states it, e.g. 'randomized "
        "double-blind placebo-controlled trial'.",
    )
    participants = models.CharField(
        max_length=255,
        blank=True,
        help_text="Number of participants (n) as the source states it, e.g. '95 CFS/ME, 50 "
        "healthy controls'. Leave empty when not reported.",
    )
    case_definition = models.CharField(
        max_length=24,
        choices=CaseDefinition.choices,
        default=CaseDefinition.UNSPECIFIED,
        help_text="The diagnostic criteria the study used to select patients.",
    )
    direction = models.CharField(
        max_length=20,
        choices=Direction.choices,
        help_text="Whether this item supports the claim, does not support it, is mixed, or "
        "only describes.",
    )
    level = models.CharField(
        max_length=1, choices=Level.choices, db_index=True, help_text=LEVEL_HELP
    )
    curator_note = models.TextField(
        blank=True,
        help_text="Caveats readers should know: who was selected, what was not measured, "
        "what contradicts this claim.",
    )
    contradicted_by = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="contradicts",
        help_text="Items of the same kind whose evidence contradicts this claim.",
    )

    class Meta(Moderated.Meta):
        abstract = True
        constraints = [
            *Moderated.Meta.constraints,
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="%(app_label)s_%(class)s_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values),
                name="%(app_label)s_%(class)s_direction_valid",
            ),
            models.CheckConstraint(
                condition=Q(case_definition__in=CaseDefinition.values),
                name="%(app_label)s_%(class)s_case_definition_valid",
            ),
        ]


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------


class SourceKind(models.TextChoices):
    JOURNAL_ARTICLE = "journal_article", "Journal article"
    REVIEW = "review", "Review"
    PREPRINT = "preprint", "Preprint (not peer reviewed)"
    TRIAL_REGISTRY = "trial_registry", "Trial registry entry"
    REGULATORY_DOCUMENT = "regulatory_document", "Regulatory document"
    WEB_ARTICLE = "web_article", "Web article"
    BOOK = "book", "Book"
    PATENT = "patent", "Patent"
    # A finding of this knowledge base's own reference check, such as an absence ("no
    # trial was found"): named as such, never passed off as a publication.
    CURATORS_CHECK = "curators_check", "Check by this knowledge base's curators"


class NoticeKind(models.TextChoices):
    """A publisher's notice about a published document, as Crossref records it (its
    ``updated-by`` relations, the publisher's own and those Retraction Watch found)."""

    RETRACTION = "retraction", "Retraction"
    PARTIAL_RETRACTION = "partial_retraction", "Partial retraction"
    EXPRESSION_OF_CONCERN = "expression_of_concern", "Expression of concern"
    CORRECTION = "correction", "Correction"


# Notices that put a document's results in doubt. The claims citing a source with one
# stay on every page, flagged, but count in no level, total, ranking or matrix cell until
# an editor has reviewed the notice (findings/retractions.py). A correction is shown and
# counted: it corrects the record, it does not withdraw it.
HELD_NOTICES = (
    NoticeKind.RETRACTION,
    NoticeKind.PARTIAL_RETRACTION,
    NoticeKind.EXPRESSION_OF_CONCERN,
)


def source_held_q(prefix: str = "") -> Q:
    """Sources whose retraction (or partial retraction, or expression of concern) no
    editor has reviewed yet. ``prefix`` reaches them from a claim (``source__``)."""
    return (
        Q(**{f"{prefix}retracted": True}) | Q(**{f"{prefix}notice_kind__in": HELD_NOTICES})
    ) & Q(**{f"{prefix}notice_reviewed_at__isnull": True})


class Source(Moderated):
    """A citable document. Never type an identifier, author, year or journal from memory."""

    key = models.SlugField(
        max_length=80,
        unique=True,
        help_text="A short stable citation key, e.g. brenu2011_nk. Used in BibTeX and imports.",
    )
    kind = models.CharField(max_length=24, choices=SourceKind.choices)
    title = models.CharField(max_length=500)
    authors = models.TextField(
        blank=True, help_text="As printed by the source. Leave empty when not verified."
    )
    container = models.CharField(
        "journal / site / publisher",
        max_length=255,
        blank=True,
        help_text="The journal, web site or publisher, as printed.",
    )
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Leave empty when not verified."
    )
    published_on = models.DateField(null=True, blank=True)
    url = models.URLField("URL", max_length=500, blank=True)
    doi = DOIField(
        "DOI",
        blank=True,
        help_text="e.g. 10.1186/1479-5876-9-81. A pasted https://doi.org/ link is fine: it is "
        "stored without the prefix, in lower case.",
    )
    pmid = PMIDField("PMID", blank=True, help_text="PubMed ID, digits only.")
    pmcid = PMCIDField("PMCID", blank=True, help_text="PubMed Central ID, e.g. PMC3147318.")
    nct_id = NCTField(
        "ClinicalTrials.gov number",
        blank=True,
        help_text="A trial's registry number, e.g. NCT00215813. A pasted clinicaltrials.gov "
        "link is fine.",
    )
    publication_type = models.CharField(
        max_length=255,
        blank=True,
        help_text="As the index or registry gives it (e.g. Crossref's journal-article, "
        "PubMed's Randomized Controlled Trial). The kind above is ours.",
    )
    abstract = models.TextField(
        blank=True,
        help_text="The abstract as published (from Crossref, PubMed or Europe PMC). Quotes "
        "may be taken from it verbatim.",
    )
    accessed_on = models.DateField(null=True, blank=True, help_text="When a web page was read.")
    retracted = models.BooleanField(
        default=False, help_text="Tick when the publisher has retracted this document."
    )
    retraction_note = models.TextField(blank=True)
    notice_kind = models.CharField(
        "publisher's notice",
        max_length=24,
        choices=NoticeKind.choices,
        blank=True,
        help_text="The most serious notice issued about this document (Crossref's record of "
        "retractions and corrections, Retraction Watch's included). Filled by the lookup and "
        "by check_retractions. A retraction, partial retraction or expression of concern keeps "
        "the claims citing this source out of every count until an editor reviews it.",
    )
    notice_doi = DOIField("notice DOI", blank=True, help_text="The notice's own DOI.")
    notice_url = models.URLField(
        "notice URL", max_length=500, blank=True, help_text="Where readers can read the notice."
    )
    notice_date = models.DateField(
        "notice date", null=True, blank=True, help_text="When the notice was published."
    )
    notices_checked_on = models.DateField(
        "notices checked on",
        null=True,
        blank=True,
        help_text="When Crossref's record of retractions and corrections was last read for "
        "this DOI.",
    )
    # Set only by an editor's review of the notice (findings/retractions.py), never by an
    # edit: until then the claims citing a held source count nowhere.
    notice_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    notice_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    notice_review_note = models.TextField(blank=True, editable=False)
    verification_note = models.TextField(
        blank=True,
        help_text="What was and was not verified about this source (e.g. 'PMID/DOI not seen').",
    )

    history = HistoricalRecords()

    # Facts from outside the knowledge base, set directly by curation's ``record_flag``
    # (a publisher's notice found by check_retractions, an editor's review of it): readers
    # must see a retraction at once, not after a suggestion waits for review.
    flag_fields = (
        "retracted",
        "retraction_note",
        "notice_kind",
        "notice_doi",
        "notice_url",
        "notice_date",
        "notices_checked_on",
        "notice_reviewed_at",
        "notice_reviewed_by",
        "notice_review_note",
    )

    class Meta(Moderated.Meta):
        permissions = [("review_source", "Can publish, reject or retract sources")]
        ordering = ["-year", "title"]
        indexes = [
            # Every public claim checks that its source is published: with this partial
            # index that check is an index-only probe, not a table read (at 500k claims).
            models.Index(
                fields=["id"], condition=Q(status=Status.PUBLISHED), name="source_published_pk"
            ),
        ]
        constraints = [
            *Moderated.Meta.constraints,
            # One Source per document: two rows with one DOI or PMID would split its claims.
            # The code "unique" puts the error on the field (Model.validate_constraints
            # does so for a one-field constraint); validate_constraints below names the
            # source that has it.
            models.UniqueConstraint(
                fields=["doi"],
                condition=~Q(doi=""),
                name="findings_source_doi_unique",
                violation_error_message="A source with this DOI already exists.",
                violation_error_code="unique",
            ),
            models.UniqueConstraint(
                fields=["pmid"],
                condition=~Q(pmid=""),
                name="findings_source_pmid_unique",
                violation_error_message="A source with this PMID already exists.",
                violation_error_code="unique",
            ),
            models.UniqueConstraint(
                fields=["nct_id"],
                condition=~Q(nct_id=""),
                name="findings_source_nct_unique",
                violation_error_message="A source with this ClinicalTrials.gov number already "
                "exists.",
                violation_error_code="unique",
            ),
            # DOIField normalises; this keeps raw SQL and bulk loads honest too.
            models.CheckConstraint(
                condition=Q(doi=Lower("doi")) & ~Q(doi__startswith="http"),
                name="findings_source_doi_normalised",
                violation_error_message="The DOI must be stored in lower case without a "
                "https://doi.org/ prefix.",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1800, year__lte=2100),
                name="findings_source_year_range",
                violation_error_message="The year must be between 1800 and 2100.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values), name="findings_source_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(notice_kind="") | Q(notice_kind__in=NoticeKind.values),
                name="findings_source_notice_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        who = self.first_author or "Anon."
        # A long title is shortened visibly: cut mid-word without a mark, it read as lost.
        title = self.title if len(self.title) <= 80 else self.title[:79].rstrip() + "…"
        return f"{who} {self.year or 'n.d.'}: {title}"

    def get_absolute_url(self) -> str:
        return reverse("findings:source-detail", args=[self.pk])

    def validate_constraints(self, exclude=None):
        """A DOI, PMID or trial number already taken is reported on its field with
        the key and title of the source that has it (the admin adds a link to it): the
        curator opens that source instead of adding the document twice."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            for name in ("doi", "pmid", "nct_id"):
                if name in errors:
                    errors[name] = [
                        self._taken_error(name, error) if error.code == "unique" else error
                        for error in errors[name]
                    ]
            raise ValidationError(errors) from None

    def _taken_error(self, name: str, error: ValidationError) -> ValidationError:
        # Ask the database the constraint was checked on (the primary, not a replica).
        others = Source._default_manager.using(router.db_for_write(Source, instance=self))
        if not self._state.adding and self.pk is not None:
            others = others.exclude(pk=self.pk)
        holder = others.filter(**{name: getattr(self, name)}).first()
        if holder is None:  # gone since the check: the plain message will do
            return error
        return ValidationError(
            "A source with this %(label)s already exists: “%(key)s” (%(title)s). Open that "
            "source instead of adding the document again.",
            code="unique",
            params={
                "label": self._meta.get_field(name).verbose_name,
                "key": holder.key,
                "title": holder.title if len(holder.title) <= 80 else holder.title[:79] + "…",
            },
        )

    @property
    def notice_held(self) -> bool:
        """A retraction (or partial retraction, or expression of concern) no editor has
        reviewed yet: the claims citing this source count nowhere (``source_held_q``)."""
        return (
            self.retracted or self.notice_kind in HELD_NOTICES
        ) and self.notice_reviewed_at is None

    @property
    def notice_link(self) -> str:
        """Where a reader reads the notice: its URL, else its DOI's link."""
        return self.notice_url or (f"https://doi.org/{self.notice_doi}" if self.notice_doi else "")

    @property
    def first_author(self) -> str:
        return self.authors.split(",")[0].strip() if self.authors else ""

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""


# ---------------------------------------------------------------------------
# Abnormalities and how they are measured
# ---------------------------------------------------------------------------


class AbnormalityCategory(models.TextChoices):
    CELLULAR = "cellular", "Cellular"
    HUMORAL = "humoral", "Humoral (antibodies)"
    MOLECULAR_PATHWAY = "molecular_pathway", "Molecular pathway"
    CYTOKINE = "cytokine", "Cytokine"
    OTHER = "other", "Other"


class Change(models.TextChoices):
    DECREASED = "decreased", "Decreased"
    INCREASED = "increased", "Increased"
    DYSFUNCTIONAL = "dysfunctional", "Dysfunctional"
    SHIFTED = "shifted", "Shifted"


def split_aliases(aliases: str) -> list[str]:
    return [line.strip() for line in aliases.splitlines() if line.strip()]


class Abnormality(Moderated):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    aliases = models.TextField(
        blank=True, help_text="Other names readers search for, one per line (e.g. 'LNKS')."
    )
    category = models.CharField(max_length=24, choices=AbnormalityCategory.choices)
    component = models.CharField(
        max_length=120, help_text="The part of the immune system affected, e.g. 'NK cells', 'IgG1'."
    )
    change = models.CharField(max_length=16, choices=Change.choices)
    summary = models.TextField(
        "plain-language summary",
        help_text="Two or three sentences a patient with brain fog can read.",
    )
    details = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta(Moderated.Meta):
        permissions = [("review_abnormality", "Can publish, reject or retract abnormalities")]
        ordering = ["name"]
        verbose_name_plural = "abnormalities"
        constraints = [
            *Moderated.Meta.constraints,
            models.CheckConstraint(
                condition=Q(category__in=AbnormalityCategory.values),
                name="findings_abnormality_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(change__in=Change.values), name="findings_abnormality_change_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("findings:abnormality-detail", args=[self.slug])

    @property
    def alias_list(self) -> list[str]:
        return split_aliases(self.aliases)


class Availability(models.TextChoices):
    ROUTINE = "routine", "Routine (most hospital labs)"
    SPECIALIST = "specialist", "Specialist (immunology or referral labs)"
    RESEARCH_ONLY = "research_only", "Research only (not available to patients)"


class LabTest(Moderated):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    measures = models.TextField(help_text="What the test measures, in plain words.")
    specimen = models.CharField(max_length=120, help_text="e.g. 'Blood (serum)'.")
    availability = models.CharField(max_length=16, choices=Availability.choices)
    abnormalities = models.ManyToManyField(
        Abnormality, related_name="lab_tests", blank=True, help_text="What this test can show."
    )
    notes = models.TextField(blank=True)

    # Links are versioned with the record, so a restore from history brings them back.
    history = HistoricalRecords(m2m_fields=["abnormalities"])

    class Meta(Moderated.Meta):
        permissions = [("review_labtest", "Can publish, reject or retract lab tests")]
        ordering = ["name"]
        verbose_name = "lab test"
        constraints = [
            *Moderated.Meta.constraints,
            models.CheckConstraint(
                condition=Q(availability__in=Availability.values),
                name="findings_labtest_availability_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


class FindingQuerySet(ModeratedQuerySet):
    def _with_public_parents(self):
        return self.filter(
            Q(source__status=Status.PUBLISHED),
            Q(abnormality__isnull=True) | Q(abnormality__status=Status.PUBLISHED),
            Q(lab_test__isnull=True) | Q(lab_test__status=Status.PUBLISHED),
        )

    def published(self):
        """A finding is public only with its source and abnormality (or test) public too."""
        return super().published()._with_public_parents()

    def visible(self):
        return super().visible()._with_public_parents()

    def retracted(self):
        return super().retracted()._with_public_parents()

    def counted(self):
        """Published, and counted in levels, totals and rankings: not resting on a
        source whose retraction no editor has reviewed yet (shown, flagged, uncounted)."""
        return self.published().exclude(source_held_q("source__"))


class Finding(EvidenceFields):
    """One sourced claim that an abnormality is (or is not) seen in ME/CFS, or about
    how it is tested."""

    abnormality = models.ForeignKey(
        Abnormality,
        on_delete=models.PROTECT,
        related_name="findings",
        null=True,
        blank=True,
        help_text="The abnormality the claim is about. May be empty only for a claim about a "
        "lab test.",
    )
    lab_test = models.ForeignKey(
        LabTest,
        on_delete=models.PROTECT,
        related_name="findings",
        null=True,
        blank=True,
        help_text="Set when the claim is about how an abnormality is tested.",
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="findings")

    objects = FindingQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["contradicted_by"])

    class Meta(EvidenceFields.Meta):
        permissions = [("review_finding", "Can publish, reject or retract findings")]
        ordering = ["level", "-source__year", "pk"]
        constraints = [
            *EvidenceFields.Meta.constraints,
            models.CheckConstraint(
                condition=Q(abnormality__isnull=False) | Q(lab_test__isnull=False),
                name="findings_finding_about_something",
                violation_error_message="A finding must name an abnormality, a lab test, or both.",
            ),
        ]
        indexes = [
            # Abnormality pages list the published findings of one abnormality by level.
            models.Index(
                fields=["abnormality", "status", "level"], name="finding_abn_status_level"
            ),
        ]

    def __str__(self) -> str:
        # The statement's start tells apart two claims of one source about one thing.
        about = self.abnormality or self.lab_test
        return f"{about} — {self.source.key} ({self.level}) · {excerpt(self.statement)}"


# ---------------------------------------------------------------------------
# A file being imported (findings/importing.py, findings/admin_import.py)
# ---------------------------------------------------------------------------


class SourceImportFile(models.Model):
    """A BibTeX, RIS, PubMed or CSL-JSON file a curator uploaded, kept on the server
    between its preview and their choice of entries (at most SOURCE_IMPORT_KEEP_MINUTES,
    then deleted): the choice names entries by number, and the server reads the file
    again, so nothing the browser sends back is taken as a source's content."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=16)
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "source import file"

    def __str__(self) -> str:
        return self.filename
