"""What is known about the immune abnormalities reported in ME/CFS (the second floor,
on ``curation``). ``treatments`` builds on these models; nothing here imports it.
"""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from curation.history import History
from curation.models import Moderated, ModeratedQuerySet, Status, excerpt
from curation.reversing import slug_reverse
from findings.fields import DOIField, NCTField, PMCIDField, PMIDField
from findings.readability import reading_grade

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


class StudyDesign(models.TextChoices):
    """How the study behind a claim was done, as a fixed list (``study_design`` keeps the
    source's own words). treatments/certainty.py starts a pair's rating from it."""

    SYSTEMATIC_REVIEW = "systematic_review", "Systematic review / meta-analysis"
    RCT = "rct", "Randomised controlled trial"
    CROSSOVER_RCT = "crossover_rct", "Randomised crossover trial"
    NON_RANDOMISED_CONTROLLED = (
        "non_randomised_controlled",
        "Controlled study, not (or not reported as) randomised",
    )
    COHORT = "cohort", "Cohort or single-arm study (patients followed over time, no control group)"
    CASE_CONTROL = "case_control", "Case-control (patients compared with controls)"
    CROSS_SECTIONAL = "cross_sectional", "Cross-sectional (measured once)"
    CASE_SERIES = "case_series", "Case series"
    CASE_REPORT = "case_report", "Case report"
    IN_VITRO = "in_vitro", "In vitro / ex vivo (cells or tissue in the laboratory)"
    ANIMAL = "animal", "Animal study"
    NARRATIVE_REVIEW = "narrative_review", "Narrative review"
    EXPERT_OPINION = "expert_opinion", "Expert opinion (a claim without study data)"
    REGULATORY_DOCUMENT = "regulatory_document", "Regulatory document or decision"


class Blinding(models.TextChoices):
    NOT_REPORTED = "not_reported", "Not reported"
    NONE = "none", "None (open label)"
    SINGLE = "single", "Single-blind"
    DOUBLE = "double", "Double-blind (or more)"
    BLINDED = "blinded", "Blinded (who was blinded not stated)"
    NOT_APPLICABLE = "not_applicable", "Not applicable (laboratory study, review, opinion)"


class Comparator(models.TextChoices):
    NOT_REPORTED = "not_reported", "Not reported"
    PLACEBO = "placebo", "Placebo"
    ACTIVE = "active", "Active treatment"
    USUAL_CARE = "usual_care", "Usual care"
    HEALTHY_CONTROLS = "healthy_controls", "Healthy controls"
    DISEASE_CONTROLS = "disease_controls", "People with another condition"
    NONE = "none", "None (no comparison group)"


class OutcomeType(models.TextChoices):
    NOT_REPORTED = "not_reported", "Not reported"
    CLINICAL = "clinical", "Clinical (how patients feel or function)"
    SURROGATE = "surrogate", "Surrogate (a laboratory or other marker)"


class EffectMeasure(models.TextChoices):
    NONE = "none", "None reported"
    SMD = "smd", "Standardised mean difference (SMD, Hedges g, Cohen d)"
    MD = "md", "Mean difference (MD)"
    RR = "rr", "Risk ratio (RR)"
    OR = "or", "Odds ratio (OR)"
    PROPORTION_RESPONDING = "proportion", "Proportion responding (%)"
    CORRELATION = "correlation", "Correlation (r)"


# The value that means "no effect", for the measures that have one: a 95 % CI that
# includes it "crosses no effect" (treatments/certainty.py, imprecision).
NO_EFFECT = {
    EffectMeasure.SMD: 0,
    EffectMeasure.MD: 0,
    EffectMeasure.CORRELATION: 0,
    EffectMeasure.RR: 1,
    EffectMeasure.OR: 1,
}


class RiskOfBias(models.TextChoices):
    NOT_ASSESSED = "not_assessed", "Not assessed"
    LOW = "low", "Low"
    SOME_CONCERNS = "some_concerns", "Some concerns"
    HIGH = "high", "High"


class Selected(models.TextChoices):
    NOT_REPORTED = "not_reported", "Not reported"
    YES = "yes", "Yes"
    NO = "no", "No"


# The structured study fields, in the order forms, files and the API show them.
STUDY_FIELDS = (
    "design",
    "patients",
    "controls",
    "blinding",
    "comparator",
    "primary_outcome",
    "outcome_type",
    "effect_measure",
    "effect_value",
    "effect_ci_low",
    "effect_ci_high",
    "follow_up_weeks",
    "risk_of_bias",
    "risk_of_bias_reason",
    "selected_for_abnormality",
)

_EFFECT_DIGITS = {"max_digits": 12, "decimal_places": 4}


def _choices_valid(name: str, choices: type[models.TextChoices], *, blank: bool = False) -> Q:
    allowed = [*choices.values, ""] if blank else choices.values
    return Q(**{f"{name}__in": allowed})


def _constraint(condition: Q, name: str, message: str | None = None) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=condition,
        name=f"%(app_label)s_%(class)s_{name}",
        violation_error_message=message,
    )


# The same rules as study_fields_check (which puts each message on its field in the
# admin and the API), kept by the database too, so that no bulk load or raw SQL
# stores a CI that does not contain its value.
STUDY_CONSTRAINTS = [
    _constraint(_choices_valid("design", StudyDesign, blank=True), "design_valid"),
    _constraint(_choices_valid("blinding", Blinding), "blinding_valid"),
    _constraint(_choices_valid("comparator", Comparator), "comparator_valid"),
    _constraint(_choices_valid("outcome_type", OutcomeType), "outcome_type_valid"),
    _constraint(_choices_valid("effect_measure", EffectMeasure), "effect_measure_valid"),
    _constraint(_choices_valid("risk_of_bias", RiskOfBias), "risk_of_bias_valid"),
    _constraint(_choices_valid("selected_for_abnormality", Selected), "selected_valid"),
    _constraint(
        Q(patients__isnull=True) | Q(patients__gte=1),
        "patients_at_least_one",
        "The number of patients must be at least 1 (leave it empty when not reported).",
    ),
    _constraint(
        Q(controls__isnull=True) | Q(controls__gte=1),
        "controls_at_least_one",
        "The number of controls must be at least 1 (leave it empty when there were none).",
    ),
    _constraint(
        Q(follow_up_weeks__isnull=True) | Q(follow_up_weeks__gt=0),
        "follow_up_positive",
        "The follow-up must be more than 0 weeks (leave it empty when not reported).",
    ),
    _constraint(
        Q(effect_value__isnull=True) | ~Q(effect_measure=EffectMeasure.NONE),
        "effect_value_has_measure",
        "An effect value needs its measure.",
    ),
    _constraint(
        Q(effect_ci_low__isnull=True, effect_ci_high__isnull=True)
        | Q(effect_ci_low__isnull=False, effect_ci_high__isnull=False, effect_value__isnull=False),
        "effect_ci_complete",
        "A 95 % CI needs both limits and the effect value.",
    ),
    _constraint(
        Q(effect_ci_low__isnull=True)
        | Q(effect_value__isnull=True)
        | Q(effect_ci_low__lte=models.F("effect_value")),
        "effect_ci_low_below_value",
        "The CI's low limit must not be above the effect value.",
    ),
    _constraint(
        Q(effect_ci_high__isnull=True)
        | Q(effect_value__isnull=True)
        | Q(effect_value__lte=models.F("effect_ci_high")),
        "effect_ci_high_above_value",
        "The CI's high limit must not be below the effect value.",
    ),
    _constraint(
        Q(risk_of_bias=RiskOfBias.NOT_ASSESSED) | ~Q(risk_of_bias_reason=""),
        "risk_of_bias_has_reason",
        "Give the reason for the risk of bias.",
    ),
]

_STUDY_CONSTRAINT_NAMES = tuple(
    c.name.removeprefix("%(app_label)s_%(class)s") for c in STUDY_CONSTRAINTS
)


def study_fields_check(item) -> None:
    """Raise ``ValidationError`` naming each structured study field that is wrong, with
    a message for the curator (the admin shows it at the field, the API in
    ``errors.<field>``). The database checks the same rules (STUDY_CONSTRAINTS)."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, what in (("patients", "patients"), ("controls", "controls")):
        value = getattr(item, name)
        if value is not None and value < 1:
            add(name, f"The number of {what} must be at least 1; leave it empty when not reported.")
    if item.follow_up_weeks is not None and item.follow_up_weeks <= 0:
        add(
            "follow_up_weeks",
            "The follow-up must be more than 0 weeks; leave it empty when not reported.",
        )
    value, low, high = item.effect_value, item.effect_ci_low, item.effect_ci_high
    measure = item.effect_measure
    if value is not None and measure in ("", EffectMeasure.NONE):
        add(
            "effect_measure",
            "An effect value needs its measure: choose how the source "
            "states it (SMD, MD, RR, OR, proportion responding or correlation).",
        )
    if (low is None) != (high is None):
        add(
            "effect_ci_low" if low is None else "effect_ci_high",
            "Give both limits of the 95 % CI, or neither.",
        )
    if (low is not None or high is not None) and value is None:
        add("effect_value", "A 95 % CI needs the effect value it surrounds.")
    if value is not None and low is not None and low > value:
        add(
            "effect_ci_low",
            f"The CI's low limit ({low}) must not be above the effect value ({value}).",
        )
    if value is not None and high is not None and high < value:
        add(
            "effect_ci_high",
            f"The CI's high limit ({high}) must not be below the effect value ({value}).",
        )
    if measure in (EffectMeasure.RR, EffectMeasure.OR):
        for name, number in (("effect_value", value), ("effect_ci_low", low)):
            if number is not None and number <= 0:
                add(name, "A risk or odds ratio is always above 0.")
    if measure == EffectMeasure.CORRELATION:
        for name, number in (
            ("effect_value", value),
            ("effect_ci_low", low),
            ("effect_ci_high", high),
        ):
            if number is not None and not -1 <= number <= 1:
                add(name, "A correlation lies between -1 and 1.")
    if measure == EffectMeasure.PROPORTION_RESPONDING:
        for name, number in (
            ("effect_value", value),
            ("effect_ci_low", low),
            ("effect_ci_high", high),
        ):
            if number is not None and not 0 <= number <= 100:
                add(name, "A proportion responding is a percentage, from 0 to 100.")
    if (
        item.risk_of_bias not in ("", RiskOfBias.NOT_ASSESSED)
        and not (item.risk_of_bias_reason or "").strip()
    ):
        add(
            "risk_of_bias_reason",
            "Say why the risk of bias is "
            f"{RiskOfBias(item.risk_of_bias).label.lower()}, for readers and other curators.",
        )
    if errors:
        raise ValidationError(errors)


class EvidenceFields(Moderated):
    """One sourced claim with its strength. ``quote`` is only ever verbatim text."""

    statement = models.TextField(
        help_text="The claim in our words. For a reference summary, the summary goes here."
    )
    plain_summary = models.TextField(
        "plain-language summary",
        blank=True,
        help_text="The claim in one or two short sentences anyone can read, without "
        "abbreviations or jargon: the first line readers see. Only what the statement, "
        "quote or note says, nothing more. Aim for a reading grade of 9 or below. A draft "
        "may leave it empty; it is needed to publish.",
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

    # --- Structured study fields (issue 12): beside the free text above, which stays.
    # "Not reported" (or empty) wherever the source does not say: never a guess.
    design = models.CharField(
        "study design (structured)",
        max_length=32,
        choices=StudyDesign.choices,
        blank=True,
        help_text="The kind of study, from the list. Leave empty when the source does not "
        "show it. The certainty rating of a pair starts from it.",
    )
    patients = models.PositiveIntegerField(
        "patients (n)",
        null=True,
        blank=True,
        help_text="People with ME/CFS studied (in a trial: all randomised, every arm). "
        "Empty when not reported.",
    )
    controls = models.PositiveIntegerField(
        "controls (n)",
        null=True,
        blank=True,
        help_text="People without ME/CFS compared with them (healthy or disease controls). "
        "Empty when not reported or when there were none.",
    )
    blinding = models.CharField(
        max_length=16, choices=Blinding.choices, default=Blinding.NOT_REPORTED
    )
    comparator = models.CharField(
        max_length=20,
        choices=Comparator.choices,
        default=Comparator.NOT_REPORTED,
        help_text="What the patients were compared with.",
    )
    primary_outcome = models.CharField(
        max_length=255,
        blank=True,
        help_text="The main outcome, as the source names it (e.g. 'exercise tolerance').",
    )
    outcome_type = models.CharField(
        max_length=16,
        choices=OutcomeType.choices,
        default=OutcomeType.NOT_REPORTED,
        help_text="Whether the main outcome is how patients feel or function, or a marker "
        "(a laboratory value): a marker makes the evidence indirect.",
    )
    effect_measure = models.CharField(
        max_length=16,
        choices=EffectMeasure.choices,
        default=EffectMeasure.NONE,
        help_text="How the source states the size of the effect. A value needs its measure.",
    )
    effect_value = models.DecimalField(
        **_EFFECT_DIGITS,
        null=True,
        blank=True,
        help_text="The effect as the source states it (a proportion in %). Only a figure "
        "the source gives.",
    )
    effect_ci_low = models.DecimalField("95 % CI, low", **_EFFECT_DIGITS, null=True, blank=True)
    effect_ci_high = models.DecimalField("95 % CI, high", **_EFFECT_DIGITS, null=True, blank=True)
    follow_up_weeks = models.DecimalField(
        "follow-up (weeks)",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="How long patients were followed, in weeks. Empty when not reported.",
    )
    risk_of_bias = models.CharField(
        max_length=16,
        choices=RiskOfBias.choices,
        default=RiskOfBias.NOT_ASSESSED,
        help_text="Your judgement of the study's risk of bias; give the reason below.",
    )
    risk_of_bias_reason = models.TextField(
        "risk of bias: why",
        blank=True,
        help_text="Why the risk of bias is low, of some concern or high (needed unless not "
        "assessed).",
    )
    selected_for_abnormality = models.CharField(
        "patients selected for the abnormality",
        max_length=16,
        choices=Selected.choices,
        default=Selected.NOT_REPORTED,
        help_text="Whether the patients were chosen because they had the abnormality.",
    )
    # A copy of the source's year, so that the default order (level, newest source first)
    # is read from an index on the claim and a page stops after its rows, instead of a
    # join to every source and a sort of every visible claim (issue 14). Set on every
    # save from the source (``save``) and on every change of a source's year
    # (``Source.save``); bulk writers set it themselves (treatments/synthetic.py).
    source_year = models.PositiveSmallIntegerField(null=True, editable=False)

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
            *STUDY_CONSTRAINTS,
        ]

    def clean(self):
        super().clean()
        study_fields_check(self)

    # The source as read, so that ``save`` knows whether the sort key must follow.
    kept_as_read = (*Moderated.kept_as_read, "source_id")

    def save(self, *args, **kwargs):
        # A copy kept in step, not a rule: whoever saves a claim's source saves its sort
        # key (a save of other fields only, a publish, an edit, leaves both as they are).
        only = kwargs.get("update_fields")
        moved = self.as_read("source_id") != self.source_id
        if moved and (only is None or {"source", "source_id"} & set(only)):
            if self._meta.get_field("source").is_cached(self):
                self.source_year = self.source.year if self.source else None
            elif self.source_id is not None:
                years = Source.objects.filter(pk=self.source_id).values_list("year", flat=True)
                self.source_year = years.first()
            if only is not None:
                kwargs["update_fields"] = {*only, "source_year"}
        super().save(*args, **kwargs)

    # What must be filled before readers see the claim (curation's publish rule,
    # ``record_publish_blocker``): a draft may leave it empty.
    publish_requires: tuple[str, ...] = ("plain_summary",)

    @property
    def plain_summary_grade(self) -> float | None:
        """The plain summary's reading grade (findings/readability.py); None when empty."""
        return reading_grade(self.plain_summary) if self.plain_summary.strip() else None

    # Names (or their endings) of the constraints clean() checks itself.
    checked_in_clean: tuple[str, ...] = _STUDY_CONSTRAINT_NAMES

    def get_constraints(self):
        """The constraints ``validate_constraints`` asks the database about, one query
        each: not the study fields' ones, which ``clean`` has judged already, with a
        message at each field (the database still enforces them on every write)."""
        return [
            (model, [c for c in constraints if not c.name.endswith(self.checked_in_clean)])
            for model, constraints in super().get_constraints()
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

    history = History()

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

    # The year as read, so that ``save`` knows whether its claims must follow.
    kept_as_read = (*Moderated.kept_as_read, "year")

    def save(self, *args, **kwargs):
        year_changed = self.pk is not None and self.as_read("year") != self.year
        super().save(*args, **kwargs)
        if year_changed:
            self.claims_follow_year()

    def claims_follow_year(self) -> None:
        """Copy the year onto every claim resting on this source (their sort key,
        ``EvidenceFields.source_year``); found in ``_meta``, so that findings names no
        model of the apps above it."""
        for rel in self._meta.related_objects:
            model = rel.related_model
            if rel.one_to_many and any(f.name == "source_year" for f in model._meta.fields):
                model._base_manager.filter(**{rel.field.name: self}).exclude(
                    source_year=self.year
                ).update(source_year=self.year)

    def __str__(self) -> str:
        # A long title is shortened visibly: cut mid-word without a mark, it read as lost.
        title = self.title if len(self.title) <= 80 else self.title[:79].rstrip() + "…"
        return self.citation_with(title)

    def citation_with(self, title: str) -> str:
        """'Brenu 2011: <title>'; 'HyperbaricLink, no date: <title>'; '<title> (2016)'
        when no author or organisation is known."""
        if not self.credited_to:
            return f"{title} ({self.year_shown})"
        return f"{self.short_citation}: {title}"

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
    def credited_to(self) -> str:
        """Who a reader is told wrote it: the first author; without authors, the
        organisation that published it (its container: a website, a registry, a journal);
        empty when neither is known. Never "Anon.": an unknown author is not shown as one."""
        return self.first_author or self.container

    @property
    def year_shown(self) -> str:
        """The year, or the words "no date" (never the bare abbreviation "n.d.")."""
        return str(self.year) if self.year else "no date"

    @property
    def short_citation(self) -> str:
        """ "Baraniuk 2024"-style label for readers: who (see ``credited_to``) and year;
        the title where nobody is credited."""
        who = self.credited_to or self.title
        return f"{who}, {self.year_shown}" if not self.year else f"{who} {self.year}"

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
    alias_sources = models.TextField(
        "where the other names are written",
        blank=True,
        help_text="For each other name, where it is written, one per line: 'name: the seed "
        "article, reference or page read that uses it'. Search treats other names as this "
        "record, so an other name nobody can point to is not added.",
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

    history = History()

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
        # Pages link abnormalities by the hundred: filled in (curation/reversing.py).
        return slug_reverse("findings:abnormality-detail", slug=self.slug)

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
    history = History(m2m_fields=["abnormalities"])

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
        """A finding is public only with its source and abnormality (or test) public too."""
        return self.filter(
            Q(source__status=Status.PUBLISHED),
            Q(abnormality__isnull=True) | Q(abnormality__status=Status.PUBLISHED),
            Q(lab_test__isnull=True) | Q(lab_test__status=Status.PUBLISHED),
        )

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
    history = History(m2m_fields=["contradicted_by"])

    class Meta(EvidenceFields.Meta):
        permissions = [("review_finding", "Can publish, reject or retract findings")]
        ordering = ["level", "-source_year", "pk"]
        constraints = [
            *EvidenceFields.Meta.constraints,
            models.CheckConstraint(
                condition=Q(abnormality__isnull=False) | Q(lab_test__isnull=False),
                name="findings_finding_about_something",
                violation_error_message="A finding must name an abnormality, a lab test, or both.",
            ),
        ]
        indexes = [
            # Abnormality pages list the published findings of one abnormality by level;
            # the API list of one abnormality's findings in its default order (issue 14).
            models.Index(
                fields=["abnormality", "status", "level", "-source_year", "id"],
                name="finding_abn_order",
            ),
            # The list in its default order, walked a page at a time (issue 14); not led
            # by status, which lists ask for as "not retracted" (an inequality).
            models.Index(fields=["level", "-source_year", "id"], name="finding_list_order"),
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


# ---------------------------------------------------------------------------
# The glossary: words and measures readers meet (/glossary/)
# ---------------------------------------------------------------------------


class GlossaryTerm(Moderated):
    """A word, measure or marker readers meet on the pages (E:T ratio, Hedges g,
    CD56bright), defined in plain words, with where the definition comes from.

    Published terms are listed at /glossary/ and explained where they occur in reader
    text (``<abbr title>``, findings/glossary.py). Curated and reviewed like everything
    readers see."""

    term = models.CharField(max_length=100, unique=True, help_text="As readers meet it.")
    slug = models.SlugField(max_length=100, unique=True)
    written = models.TextField(
        "also written",
        blank=True,
        help_text="Other ways the pages write it, one per line ('E:T ratios', "
        "'effector-to-target ratio'): each is explained where it occurs.",
    )
    definition = models.TextField(
        help_text="One or two sentences a patient with brain fog can read; the first "
        "sentence is shown where the term occurs."
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="glossary_terms",
        help_text="The source the definition is taken from, when one is held here.",
    )
    source_note = models.TextField(
        "where the definition comes from",
        blank=True,
        help_text="Where the definition's facts are written: a seed article, a reference, a "
        "page read (with its address). Shown to readers.",
    )

    history = History()

    class Meta(Moderated.Meta):
        permissions = [("review_glossaryterm", "Can publish, reject or retract glossary terms")]
        ordering = ["term"]
        verbose_name = "glossary term"

    def __str__(self) -> str:
        return self.term

    def get_absolute_url(self) -> str:
        return f"{reverse('findings:glossary')}#{self.slug}"

    @property
    def written_list(self) -> list[str]:
        return split_aliases(self.written)

    @property
    def short_definition(self) -> str:
        """The definition's first sentence: what a reader sees where the term occurs."""
        first = re.split(r"(?<=[.!?])\s+", self.definition.strip(), maxsplit=1)[0]
        return first
