"""Therapies, and the sourced evidence that ties them to abnormalities."""

import re

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf

from curation.history import History
from curation.jsonsql import TextJoin, json_members
from curation.models import Moderated, ModeratedQuerySet, Status, excerpt
from curation.reversing import slug_reverse
from findings.models import (
    LEVEL_SHORT,
    Abnormality,
    EvidenceFields,
    Finding,
    Level,
    Selected,
    Source,
    source_held_q,
    split_aliases,
)
from treatments.counts import STORED_COLUMNS, EvidenceCounts, LevelDirection


class TherapyKind(models.TextChoices):
    DRUG = "drug", "Drug"
    BIOLOGIC = "biologic", "Biologic"
    CELL_THERAPY = "cell_therapy", "Cell therapy"
    PROCEDURE = "procedure", "Procedure"
    SUPPLEMENT = "supplement", "Supplement"


class Stage(models.TextChoices):
    PRECLINICAL = "preclinical", "Preclinical"
    INVESTIGATIONAL = "investigational", "Investigational in ME/CFS"
    OFF_LABEL = "off_label", "Approved for other uses; used off-label in ME/CFS"
    APPROVED = "approved", "Approved for ME/CFS in at least one country"
    ABANDONED = "abandoned", "No longer pursued"
    # No source says development stopped, and none shows any beyond the records found:
    # the therapy's summary names them (sizofiran: a 1992 review and an expired patent).
    NO_DEVELOPMENT_FOUND = "no_development", "No development for ME/CFS found"


class TherapyQuerySet(ModeratedQuerySet):
    def tied_to(self, evidence: "TherapyEvidenceQuerySet"):
        """Therapies with at least one item of ``evidence`` (already filtered as wanted)."""
        return self.filter(Exists(evidence.filter(therapy=OuterRef("pk"))))

    def tied_by_ratings(self, abnormalities=None, *, level: str = ""):
        """Therapies whose counted evidence ties them to one of ``abnormalities`` (None:
        any evidence at all, general evidence included), at ``level`` or stronger when
        given. Read from the stored counts (``PairCertainty``, written on every publish
        by treatments/certainty.py): the same therapies as ``tied_to`` over
        ``TherapyEvidence.objects.counted()``, one indexed row per therapy and
        abnormality instead of a search through its evidence."""
        ratings = PairCertainty.objects.filter(therapy=OuterRef("pk")).exclude(
            evidence_best_level=""
        )
        if abnormalities is None:
            ratings = ratings.filter(abnormality__isnull=True)
        else:
            ratings = ratings.filter(abnormality__in=abnormalities)
        if level:
            ratings = ratings.filter(evidence_best_level__lte=level)
        return self.filter(Exists(ratings))

    def with_evidence_summary(self):
        """Annotate ``best_level`` (lowest letter = strongest; None without counted
        evidence), to filter or sort by: the stored level of its rating as a whole
        (treatments/counts.py, written on every publish), one indexed row per therapy.
        The counts shown are read from the stored summaries (treatments/summaries.py),
        never counted here."""

        def build():
            # No ordering: the rating's default one joins the therapy and abnormality names.
            whole = PairCertainty.objects.filter(
                therapy=OuterRef("pk"), abnormality__isnull=True
            ).order_by()
            level = whole.annotate(level=NullIf("evidence_best_level", Value("")))
            return self.annotate(best_level=Subquery(level.values("level")[:1]))

        # Built once for readers' querysets (curation/models.py ``_readers``): 0.27 ms.
        return self._readers(("with_evidence_summary",), build)


class Therapy(Moderated):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    aliases = models.TextField(
        blank=True,
        help_text="Other names, one per line: brand names, codes, abbreviations "
        "(rintatolimod = Ampligen; inosine pranobex = Isoprinosine).",
    )
    alias_sources = models.TextField(
        "where the other names are written",
        blank=True,
        help_text="For each other name, where it is written, one per line: 'name: the seed "
        "article, reference or page read that uses it'. Search treats other names as this "
        "record, so an other name nobody can point to is not added.",
    )
    kind = models.CharField(max_length=16, choices=TherapyKind.choices)
    mechanism = models.TextField(blank=True, help_text="How it is thought to work.")
    stage = models.CharField(
        "development stage",
        max_length=16,
        choices=Stage.choices,
        help_text="How far it has come for ME/CFS.",
    )
    summary = models.TextField(
        "plain-language summary",
        help_text="Two or three sentences a patient with brain fog can read.",
    )
    # Harms are Harm records now, each with its source and review (issue 13). The free
    # text they replaced is kept, read-only and never shown to readers, so that text a
    # curator typed before is not lost (migration 0007_harm_records).
    legacy_harms = models.TextField(
        "known harms (old free text)",
        blank=True,
        editable=False,
        help_text="Read-only: the free text kept before harms became harm records. Enter "
        "harms as harm records, each with its source.",
    )

    objects = TherapyQuerySet.as_manager()
    history = History()

    class Meta(Moderated.Meta):
        permissions = [("review_therapy", "Can publish, reject or retract therapies")]
        ordering = ["name"]
        verbose_name_plural = "therapies"
        constraints = [
            *Moderated.Meta.constraints,
            models.CheckConstraint(
                condition=Q(kind__in=TherapyKind.values), name="treatments_therapy_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=Stage.values), name="treatments_therapy_stage_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        # Lists and exports link every therapy: filled in (curation/reversing.py).
        return slug_reverse("treatments:therapy-detail", slug=self.slug)

    @property
    def alias_list(self) -> list[str]:
        return split_aliases(self.aliases)


class LinkKind(models.TextChoices):
    RATIONALE = "rationale", "Rationale — proposed on mechanistic grounds; not measured"
    SELECTED = "selected", "Selected — patients were selected because they had the abnormality"
    MEASURED = "measured", "Measured — the therapy's effect on the abnormality itself was measured"


LINK_KIND_HELP = (
    "How strongly the study ties therapy to abnormality. "
    + " ".join(label for _, label in LinkKind.choices)
    + " Leave empty when no abnormality is named."
)


class TherapyEvidenceQuerySet(ModeratedQuerySet):
    def _with_public_parents(self):
        """Public only with its therapy, source and abnormality (if any) public too."""
        return self.filter(
            therapy__status=Status.PUBLISHED, source__status=Status.PUBLISHED
        ).filter(Q(abnormality__isnull=True) | Q(abnormality__status=Status.PUBLISHED))

    def counted(self):
        """Published, and counted in levels, totals, rankings and the matrix: not resting
        on a source whose retraction no editor has reviewed yet (findings.models
        ``source_held_q``); such an item is listed, flagged, but counted nowhere."""
        return self.published().exclude(source_held_q("source__"))


class TherapyEvidence(EvidenceFields):
    """One sourced claim tying a therapy to an abnormality (or to ME/CFS in general)."""

    therapy = models.ForeignKey(Therapy, on_delete=models.PROTECT, related_name="evidence")
    abnormality = models.ForeignKey(
        Abnormality,
        on_delete=models.PROTECT,
        related_name="therapy_evidence",
        null=True,
        blank=True,
        help_text="Leave empty for evidence about the therapy in ME/CFS generally.",
    )
    link_kind = models.CharField(
        max_length=12, choices=LinkKind.choices, blank=True, help_text=LINK_KIND_HELP
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="therapy_evidence")
    contradicting_findings = models.ManyToManyField(
        Finding,
        blank=True,
        related_name="contradicts_evidence",
        help_text="Findings whose evidence contradicts this claim.",
    )

    objects = TherapyEvidenceQuerySet.as_manager()
    # Links are versioned with the record, so a restore from history brings them back.
    history = History(m2m_fields=["contradicted_by", "contradicting_findings"])

    class Meta(EvidenceFields.Meta):
        permissions = [
            ("review_therapyevidence", "Can publish, reject or retract therapy evidence")
        ]
        ordering = ["level", "-source_year", "pk"]
        verbose_name = "therapy evidence"
        verbose_name_plural = "therapy evidence"
        constraints = [
            *EvidenceFields.Meta.constraints,
            # A link kind describes the tie to an abnormality: both or neither.
            models.CheckConstraint(
                condition=(Q(abnormality__isnull=True) & Q(link_kind=""))
                | (Q(abnormality__isnull=False) & Q(link_kind__in=LinkKind.values)),
                name="treatments_evidence_link_kind_with_abnormality",
                violation_error_message="Give a link kind when an abnormality is named, "
                "and none when it is not.",
            ),
            # The structured field must not deny what the link kind says.
            models.CheckConstraint(
                condition=~Q(link_kind=LinkKind.SELECTED, selected_for_abnormality=Selected.NO),
                name="treatments_evidence_selected_agrees_with_link_kind",
                violation_error_message="The link kind says patients were selected for the "
                "abnormality; 'selected for the abnormality' cannot be 'no'.",
            ),
        ]
        indexes = [
            # The therapy browser and the matrix filter by abnormality and level; the API
            # list of one abnormality's evidence is read in its default order from here and
            # stops after the page (issue 14: 43 ms to 2 ms at 100k on SQLite).
            models.Index(
                fields=["abnormality", "status", "level", "-source_year", "id"],
                name="evidence_abn_order",
            ),
            # Therapy pages list one therapy's published evidence; the API list of one
            # therapy's evidence (and a level) in its default order, likewise.
            models.Index(
                fields=["therapy", "status", "level", "-source_year", "id"],
                name="evidence_thx_order",
            ),
            # The list in its default order, walked a page at a time (issue 14); not led
            # by status, which lists ask for as "not retracted" (an inequality).
            models.Index(fields=["level", "-source_year", "id"], name="evidence_list_order"),
            # Partial indexes over published items only (what readers see), whose trailing
            # columns hold what the public queries read, for index-only scans at scale
            # (checked with EXPLAIN ANALYZE at 500k items; docs/performance.md).
            # A therapy's best level (first entry), its counts, its evidence by level:
            models.Index(
                fields=["therapy", "level", "direction", "abnormality", "source"],
                condition=Q(status=Status.PUBLISHED),
                name="evidence_pub_therapy_level",
            ),
            # "Tied to abnormality X", probed therapy by therapy; a pair's evidence:
            models.Index(
                fields=["therapy", "abnormality", "level", "direction", "source"],
                condition=Q(status=Status.PUBLISHED),
                name="evidence_pub_therapy_abn",
            ),
            # The therapies tied to abnormality X, from its side; the matrix:
            models.Index(
                fields=["abnormality", "therapy", "level", "direction", "source"],
                condition=Q(status=Status.PUBLISHED),
                name="evidence_pub_abn_therapy",
            ),
        ]

    checked_in_clean = (
        *EvidenceFields.checked_in_clean,
        "treatments_evidence_selected_agrees_with_link_kind",
    )

    def clean(self):
        errors = {}
        try:
            super().clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if self.link_kind == LinkKind.SELECTED and self.selected_for_abnormality == Selected.NO:
            errors.setdefault("selected_for_abnormality", []).append(
                "The link kind is 'selected' (patients were selected because they had the "
                "abnormality): this cannot be 'no'. Change one of the two."
            )
        if errors:
            raise ValidationError(errors)

    def __str__(self) -> str:
        # The statement's start tells apart two items about one pair at one level.
        about = self.abnormality.name if self.abnormality_id else "ME/CFS generally"
        return f"{self.therapy} → {about} ({self.level}) · {excerpt(self.statement)}"


class RegulatoryStatusKind(models.TextChoices):
    APPROVED_FOR_MECFS = "approved_mecfs", "Approved for ME/CFS"
    APPROVED_OTHER_USE = "approved_other", "Approved for another use"
    EXPANDED_ACCESS = "expanded_access", "Expanded access"
    INVESTIGATIONAL = "investigational", "Investigational"
    REJECTED = "rejected", "Rejected"
    NOT_APPROVED = "not_approved", "Not approved"


_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}
_DATE_PATTERNS = [
    # 2009-11-25, 2025-08
    (re.compile(r"\b(\d{4})-(\d{2})(?:-(\d{2}))?\b"), ("y", "m", "d")),
    # 20 Dec 2012, 24 and 29 Aug 2016 (the first day)
    (re.compile(r"\b(\d{1,2})(?: and \d{1,2})? ([A-Za-z]{3})[a-z]*\.? (\d{4})\b"), ("d", "m", "y")),
    # March 1997, August 2016
    (re.compile(r"\b([A-Za-z]{3})[a-z]* (\d{4})\b"), ("m", "y")),
    (re.compile(r"\b(1[89]\d{2}|20\d{2})\b"), ("y",)),
]


def date_in_text(text: str) -> tuple[int, int, int] | None:
    """The first date a curator's note gives, as (year, month, day) with 0 for what it
    leaves out ('1997 per Wikipedia (2025-08 snapshot)' gives 1997); None when it gives
    none. Only for ordering: readers see the note as written."""
    found = []
    for pattern, parts in _DATE_PATTERNS:
        for match in pattern.finditer(text or ""):
            values = dict(zip(parts, match.groups(), strict=True))
            month = values.get("m") or "0"
            if not month.isdigit():
                month = _MONTHS.get(month[:3].lower())
                if month is None:
                    continue
            day = int(values.get("d") or 0)
            # First in the text; where two patterns start alike, the longer (more precise).
            found.append((match.start(), -len(match[0]), (int(values["y"]), int(month), day)))
    return min(found)[2] if found else None


class RegulatoryStatusQuerySet(ModeratedQuerySet):
    def _with_public_parents(self):
        return self.filter(therapy__status=Status.PUBLISHED, source__status=Status.PUBLISHED)


class RegulatoryStatus(Moderated):
    """Where a therapy can be had, according to one source."""

    therapy = models.ForeignKey(
        Therapy, on_delete=models.PROTECT, related_name="regulatory_statuses"
    )
    jurisdiction = models.CharField(
        max_length=120, help_text="Country or region, e.g. 'Argentina'."
    )
    # DESIGN.md calls this "status"; here `status` is the moderation status every
    # curated record shares (and `.published()` reads), so this one is named in full.
    regulatory_status = models.CharField(max_length=16, choices=RegulatoryStatusKind.choices)
    date = models.DateField(null=True, blank=True, help_text="When this status took effect.")
    date_note = models.CharField(
        max_length=120,
        blank=True,
        help_text="When only a year or month is known, say so here (e.g. '2016').",
    )
    statement = models.TextField(help_text="What the source says, in our words.")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="regulatory_statuses")

    objects = RegulatoryStatusQuerySet.as_manager()
    history = History()

    class Meta(Moderated.Meta):
        permissions = [
            ("review_regulatorystatus", "Can publish, reject or retract regulatory statuses")
        ]
        ordering = ["therapy__name", "jurisdiction", "-date"]
        verbose_name = "regulatory status"
        verbose_name_plural = "regulatory statuses"
        constraints = [
            *Moderated.Meta.constraints,
            models.CheckConstraint(
                condition=Q(regulatory_status__in=RegulatoryStatusKind.values),
                name="treatments_regulatorystatus_kind_valid",
            ),
        ]

    @property
    def sort_date(self) -> tuple[int, int, int] | None:
        """When it took effect, for ordering a jurisdiction's history: ``date``, else the
        first date the date note gives ('2009-11-25', '2025-08', '20 Dec 2012',
        'March 1997', '2016'); None when neither says."""
        if self.date:
            return (self.date.year, self.date.month, self.date.day)
        return date_in_text(self.date_note)

    @property
    def when(self) -> str:
        """The date as readers are told it: '25 November 2009', or the note as written
        (without its closing full stop: it is shown in brackets)."""
        if self.date:
            return f"{self.date.day} {self.date:%B %Y}"
        return self.date_note.strip().removesuffix(".")

    def __str__(self) -> str:
        status = f"{self.get_regulatory_status_display()} in {self.jurisdiction}"
        return f"{self.therapy}: {status} · {excerpt(self.statement)}"


class HarmKind(models.TextChoices):
    ADVERSE_EFFECT = "adverse_effect", "Adverse effect"
    TOLERABILITY = "tolerability", "Tolerability (overall: well tolerated, none reported)"
    REGULATOR = "regulator", "Regulator's warning or safety judgement"
    CONTRAINDICATION = "contraindication", "Contraindication"
    INTERACTION = "interaction", "Interaction with another treatment"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SERIOUS = "serious", "Serious"
    LIFE_THREATENING = "life_threatening", "Life-threatening"
    NOT_STATED = "not_stated", "Not stated"


class ControlComparison(models.TextChoices):
    MORE = "more_than_control", "More often than with the control (placebo)"
    ALSO = "also_with_control", "Also seen with the control (placebo)"
    NO_CONTROL = "no_control", "No control group"
    NOT_STATED = "not_stated", "Not stated"


class HarmQuerySet(ModeratedQuerySet):
    def _with_public_parents(self):
        return self.filter(therapy__status=Status.PUBLISHED, source__status=Status.PUBLISHED)


class Harm(Moderated):
    """One sourced statement of harm: an adverse effect, a tolerability finding, a
    regulator's warning, a contraindication or an interaction, as one source reports it."""

    therapy = models.ForeignKey(Therapy, on_delete=models.PROTECT, related_name="harms")
    # "Kind of harm": a source's page lists its harms beside its own "Kind".
    kind = models.CharField("kind of harm", max_length=20, choices=HarmKind.choices)
    effect = models.CharField(
        max_length=300,
        help_text="What happened or may happen, in a few words, as the source names it "
        "(e.g. 'sinus pain, ear pressure'; 'no adverse events').",
    )
    frequency = models.CharField(
        "how often",
        max_length=300,
        blank=True,
        help_text="How often, as the source reports it, in its words or numbers ('20% of both "
        "groups', 'common'). Leave empty when the source does not say; never estimate.",
    )
    severity = models.CharField(
        max_length=20,
        choices=Severity.choices,
        default=Severity.NOT_STATED,
        help_text="As the source grades it. 'Not stated' unless the source says.",
    )
    control_comparison = models.CharField(
        "compared with the control group",
        max_length=20,
        choices=ControlComparison.choices,
        blank=True,
        help_text="Whether the source saw it more often than with placebo. 'No control group': "
        "nothing shows whether the therapy caused it, or whether a rare harm was missed. Leave "
        "empty where it does not apply (a regulator's warning, a contraindication).",
    )
    population = models.CharField(
        max_length=300,
        help_text="Who it was reported in (e.g. '30 adults with CFS, 15 given IVIG'), or whom "
        "a warning is about.",
    )
    statement = models.TextField(help_text="What the source says, in our words.")
    quote = models.TextField(
        blank=True,
        help_text="Text copied verbatim from the source, or nothing. Never a summary.",
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="harms")
    curator_note = models.TextField(
        blank=True, help_text="Caveats for readers: what the source did not measure or compare."
    )

    objects = HarmQuerySet.as_manager()
    history = History()

    class Meta(Moderated.Meta):
        permissions = [("review_harm", "Can publish, reject or retract harms")]
        ordering = ["therapy__name", "kind", "pk"]
        verbose_name = "harm"
        constraints = [
            *Moderated.Meta.constraints,
            models.CheckConstraint(
                condition=Q(kind__in=HarmKind.values), name="treatments_harm_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="treatments_harm_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(control_comparison__in=[*ControlComparison.values, ""]),
                name="treatments_harm_control_comparison_valid",
            ),
        ]
        indexes = [
            # A therapy's page and its API detail list its published harms.
            models.Index(fields=["therapy", "status"], name="harm_therapy_status"),
        ]

    def __str__(self) -> str:
        return f"{self.therapy}: {self.effect}"


# ---------------------------------------------------------------------------
# Certainty per pair (issue 12): computed by treatments/certainty.py, stored here
# ---------------------------------------------------------------------------


class Certainty(models.TextChoices):
    """GRADE's four levels: how sure we are of the net direction."""

    HIGH = "high", "High"
    MODERATE = "moderate", "Moderate"
    LOW = "low", "Low"
    VERY_LOW = "very_low", "Very low"


# Strongest first: a step down is one place to the right.
CERTAINTY_ORDER = [Certainty.HIGH, Certainty.MODERATE, Certainty.LOW, Certainty.VERY_LOW]


class NetDirection(models.TextChoices):
    BENEFIT = "benefit", "Benefit"
    NO_BENEFIT = "no_benefit", "No benefit"
    HARM = "harm", "Harm"
    UNCERTAIN = "uncertain", "Uncertain (the studies point different ways)"
    NOT_STUDIED = "not_studied", "Not studied (only a rationale or opinion)"


class CertaintyOverrideQuerySet(ModeratedQuerySet):
    def _with_public_parents(self):
        return self.filter(therapy__status=Status.PUBLISHED).filter(
            Q(abnormality__isnull=True) | Q(abnormality__status=Status.PUBLISHED)
        )


class CertaintyOverride(Moderated):
    """An editor's rating of a pair (or of a therapy as a whole) in place of the computed
    one, with the reason. Readers see both; it goes through review like any claim (a
    curator or editor writes it, another editor publishes it), and retracting it brings
    the computed rating back."""

    therapy = models.ForeignKey(
        Therapy, on_delete=models.PROTECT, related_name="certainty_overrides"
    )
    abnormality = models.ForeignKey(
        Abnormality,
        on_delete=models.PROTECT,
        related_name="certainty_overrides",
        null=True,
        blank=True,
        help_text="Leave empty to override the rating of the therapy as a whole.",
    )
    certainty = models.CharField(max_length=10, choices=Certainty.choices)
    net_direction = models.CharField(
        "net direction",
        max_length=12,
        choices=NetDirection.choices,
        blank=True,
        help_text="Leave empty to keep the computed direction.",
    )
    reason = models.TextField(
        help_text="Why the computed rating is wrong, for readers: it is shown beside both ratings."
    )

    objects = CertaintyOverrideQuerySet.as_manager()
    history = History()

    class Meta(Moderated.Meta):
        permissions = [
            ("review_certaintyoverride", "Can publish, reject or retract certainty overrides")
        ]
        # No ordering through the optional abnormality: the review services lock the row
        # (SELECT ... FOR UPDATE), which PostgreSQL refuses across an outer join.
        ordering = ["pk"]
        verbose_name = "certainty override"
        constraints = [
            *Moderated.Meta.constraints,
            models.CheckConstraint(
                condition=Q(certainty__in=Certainty.values),
                name="treatments_certaintyoverride_certainty_valid",
            ),
            models.CheckConstraint(
                condition=Q(net_direction__in=[*NetDirection.values, ""]),
                name="treatments_certaintyoverride_direction_valid",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="treatments_certaintyoverride_has_reason",
                violation_error_message="Give the reason for the override.",
            ),
        ]

    def __str__(self) -> str:
        about = self.abnormality.name if self.abnormality_id else "as a whole"
        return f"{self.therapy} — {about}: {self.get_certainty_display().lower()}"

    def clean(self):
        super().clean()
        if not self.therapy_id:
            return
        others = CertaintyOverride.objects.filter(
            therapy_id=self.therapy_id, abnormality_id=self.abnormality_id
        ).exclude(status__in=[Status.REJECTED, Status.RETRACTED])
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        other = others.first()
        if other is not None:
            raise ValidationError(
                {
                    "abnormality": f"This rating already has an override (#{other.pk}, "
                    f"{other.get_status_display().lower()}): change that one, or retract it "
                    "first."
                }
            )


def counts_json_members() -> TextJoin:
    """``PairCertainty.counts_json``: the members TherapyAbnormalitySerializer shows from
    a stored row's counts, from ``best_level`` to ``counts`` (counts_representation's
    keys and order), as JSON text."""
    total = F("evidence_supporting") + F("evidence_not_supporting") + F("evidence_other")
    label = Case(
        *(
            When(evidence_best_level=level, then=Value(orjson.dumps(short).decode()))
            for level, short in LEVEL_SHORT.items()
        ),
        default=Value("null"),
        output_field=models.TextField(),
    )
    counts = json_members(
        [
            ("best_level", "plain", "evidence_best_level"),
            ("best_level_direction", "plain", "evidence_best_direction"),
            ("supporting", "int", "evidence_supporting"),
            ("not_supporting", "int", "evidence_not_supporting"),
            ("other", "int", "evidence_other"),
            ("contested", "int", "evidence_contested"),
            ("total", "int", total),
            ("held", "int", "evidence_held"),
            ("studies", "int", "evidence_studies"),
            ("clinical_studies", "int", "evidence_clinical_studies"),
            ("controlled_studies", "int", "evidence_controlled_studies"),
        ]
    )
    return json_members(
        [
            ("best_level", "plain", "evidence_best_level"),
            ("best_level_label", "json", label),
            ("best_level_direction", "plain", "evidence_best_direction"),
            ("total", "int", total),
            ("supporting", "int", "evidence_supporting"),
            ("not_supporting", "int", "evidence_not_supporting"),
            ("counts", "json", TextJoin(Value("{"), counts, Value("}"))),
        ]
    )


class PairCertaintyQuerySet(models.QuerySet):
    def public(self):
        """Ratings of what readers may see: the therapy (and abnormality) published."""
        return self.filter(therapy__status=Status.PUBLISHED).filter(
            Q(abnormality__isnull=True) | Q(abnormality__status=Status.PUBLISHED)
        )

    def pairs(self):
        return self.filter(abnormality__isnull=False)

    def therapy_wide(self):
        return self.filter(abnormality__isnull=True)

    def with_related(self):
        return self.select_related("therapy", "abnormality", "override")

    def listed_total(self, letters: list[str] | None = None):
        """One row, ``(listed, unknown)``, summed by the database over these rows: the
        evidence items a list shows (held ones too), or with ``letters`` only those at
        those levels (``evidence_listed_by_level``), and how many rows were stored
        before the levels were (their items by level unknown). A reader's list counts
        this way instead of reading every pair of an abnormality (hundreds of rows, each
        with a JSON column to decode) to add them up in Python (issue 14)."""
        if letters is None:
            listed = (
                F("evidence_supporting")
                + F("evidence_not_supporting")
                + F("evidence_other")
                + F("evidence_held")
            )
        else:
            listed = Value(0)
            for letter in letters:
                at_level = KT(f"evidence_listed_by_level__{letter}")
                listed = listed + Coalesce(Cast(at_level, models.IntegerField()), 0)
        unknown = (
            Value(0)
            if letters is None
            else Count("pk", filter=Q(evidence_listed_by_level__isnull=True))
        )
        # No GROUP BY (the constant groups nothing): one row, zeros where no row matched.
        return (
            self.order_by()
            .annotate(whole=Value(1))
            .values("whole")
            .annotate(listed=Coalesce(Sum(listed), 0), unknown=unknown)
            .values_list("listed", "unknown")
        )


class PairCertainty(models.Model):
    """The computed certainty of one abnormality-therapy pair (``abnormality`` empty: of
    the therapy as a whole), from the published evidence, with its reasons. Written only
    by treatments/certainty.py (on every publish, retraction and accepted suggestion, and
    by ``certainty_recompute``); never edited: an editor's view is a CertaintyOverride,
    linked here once published."""

    therapy = models.ForeignKey(Therapy, on_delete=models.CASCADE, related_name="certainties")
    abnormality = models.ForeignKey(
        Abnormality,
        on_delete=models.CASCADE,
        related_name="therapy_certainties",
        null=True,
        blank=True,
    )
    certainty = models.CharField(max_length=10, choices=Certainty.choices)
    starting_certainty = models.CharField(max_length=10, choices=Certainty.choices)
    net_direction = models.CharField(max_length=12, choices=NetDirection.choices)
    reasons = models.JSONField(default=list, help_text="Plain sentences, in order.")
    what_would_change = models.TextField(blank=True)
    items_total = models.PositiveIntegerField(
        default=0, help_text="Published evidence items about the pair, counted or not."
    )
    items_counted = models.PositiveIntegerField(default=0)
    studies_counted = models.PositiveIntegerField(default=0)
    participants_counted = models.PositiveIntegerField(
        null=True, blank=True, help_text="Patients in the counted studies that report it."
    )
    evidence_counted = models.JSONField(
        default=list, help_text="Ids of the evidence items the rating rests on."
    )
    override = models.ForeignKey(
        CertaintyOverride,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The published override readers see beside this rating.",
    )
    # The counts every surface shows (issue 18), by treatments/counts.py: see its table.
    evidence_supporting = models.PositiveIntegerField("for", default=0)
    evidence_not_supporting = models.PositiveIntegerField("against", default=0)
    evidence_other = models.PositiveIntegerField(
        "other", default=0, help_text="Mixed, descriptive or contested items."
    )
    evidence_contested = models.PositiveIntegerField(
        "contested",
        default=0,
        help_text="Of the other items: contradicted by other evidence, or from a source its "
        "publisher retracted.",
    )
    evidence_held = models.PositiveIntegerField(
        "held", default=0, help_text="Items whose source's notice awaits an editor's review."
    )
    evidence_best_level = models.CharField("strongest level", max_length=1, blank=True)
    evidence_best_direction = models.CharField(
        "which way the strongest level points",
        max_length=10,
        choices=LevelDirection.choices,
        blank=True,
    )
    evidence_studies = models.PositiveIntegerField("studies", default=0)
    evidence_clinical_studies = models.PositiveIntegerField("clinical studies", default=0)
    evidence_controlled_studies = models.PositiveIntegerField("controlled studies", default=0)
    evidence_listed_by_level = models.JSONField(
        "listed by level",
        null=True,
        blank=True,
        help_text="Items a list shows (held ones too, retracted ones not), by level, as "
        '{"A": 2, "C": 5}: what a reader\'s list filtered by level counts. Empty where '
        "stored by an older version of the rules (then the rows are counted).",
    )
    # Which version of the rules (treatments/certainty.py RULES_VERSION) stored this row:
    # ``certainty_recompute --missing`` rates again the rows an older version stored.
    rules_version = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)
    # What the API shows of a pair's counts, as JSON members (``"best_level":"B",…``),
    # kept by the database as the counts change: a therapy list splices them into its
    # response instead of representing a thousand pairs one by one (issue 14;
    # treatments/summaries.py pairs_as_json).
    counts_json = models.GeneratedField(
        expression=counts_json_members(),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = PairCertaintyQuerySet.as_manager()

    class Meta:
        ordering = ["therapy__name", "abnormality__name"]
        verbose_name = "certainty rating"
        constraints = [
            # One rating per pair, and one per therapy as a whole.
            models.UniqueConstraint(
                fields=["therapy", "abnormality"],
                condition=Q(abnormality__isnull=False),
                name="paircertainty_one_per_pair",
            ),
            models.UniqueConstraint(
                fields=["therapy"],
                condition=Q(abnormality__isnull=True),
                name="paircertainty_one_per_therapy",
            ),
            models.CheckConstraint(
                condition=Q(certainty__in=Certainty.values)
                & Q(starting_certainty__in=Certainty.values),
                name="paircertainty_certainty_valid",
            ),
            models.CheckConstraint(
                condition=Q(net_direction__in=NetDirection.values),
                name="paircertainty_direction_valid",
            ),
            # counts_json writes them as they are: choices' values, never anything else.
            models.CheckConstraint(
                condition=Q(evidence_best_level__in=["", *Level.values])
                & Q(evidence_best_direction__in=["", *LevelDirection.values]),
                name="paircertainty_best_level_valid",
            ),
        ]
        indexes = [
            # /api/v1/pairs/?abnormality=… and the matrix read the pairs of an abnormality.
            models.Index(fields=["abnormality", "therapy"], name="paircertainty_abn_therapy"),
            # Which therapies counted evidence ties to an abnormality (the therapy lists'
            # filter and count: TherapyQuerySet.tied_by_ratings), from the index alone.
            models.Index(
                fields=["abnormality", "therapy"],
                condition=~Q(evidence_best_level=""),
                name="paircertainty_counted_ties",
            ),
            # A page of therapies' summaries (treatments/summaries.py), from the index
            # alone on PostgreSQL (INCLUDE; SQLite ignores it).
            models.Index(
                fields=["therapy"],
                include=[
                    "abnormality",
                    "override",
                    "items_total",
                    "certainty",
                    "net_direction",
                    *STORED_COLUMNS,
                    "counts_json",
                ],
                condition=~Q(evidence_best_level=""),
                name="paircertainty_counted_pairs",
            ),
            # Filtering by certainty and direction.
            models.Index(fields=["certainty", "net_direction"], name="paircertainty_rating"),
        ]

    def __str__(self) -> str:
        about = self.abnormality.name if self.abnormality_id else "as a whole"
        return f"{self.therapy} — {about}: {self.get_certainty_display().lower()}"

    @property
    def counts(self) -> EvidenceCounts:
        return EvidenceCounts.of(self)

    @property
    def shown_certainty(self) -> str:
        """What readers are told first: the editor's override, else the computed one."""
        return self.override.certainty if self.override_id else self.certainty

    @property
    def shown_direction(self) -> str:
        if self.override_id and self.override.net_direction:
            return self.override.net_direction
        return self.net_direction


# A release label: letters, digits, dots, dashes and underscores (a directory name and a
# URL segment both), starting with a letter or digit; "latest" names the newest release.
RELEASE_LABEL_REGEX = r"[0-9A-Za-z][0-9A-Za-z._-]*"


class Release(models.Model):
    """A data release: the published knowledge base as files (treatments/releases.py),
    written once under ``RELEASES_ROOT/<label>/`` and never changed, with what its
    manifest says (counts, SHA-256 checksums). Downloaded from /api/v1/releases/."""

    label = models.CharField(
        max_length=60,
        validators=[RegexValidator(f"^{RELEASE_LABEL_REGEX}$")],
        help_text="Names the release and its directory, e.g. 2026.11.30-v12.",
    )
    data_version = models.PositiveIntegerField(help_text="The data version the files show.")
    created_at = models.DateTimeField(help_text="When the files were written.")
    format_version = models.PositiveSmallIntegerField()
    counts = models.JSONField(help_text="Rows per table.")
    files = models.JSONField(help_text='{"<name>": {"sha256": …, "bytes": …}}, manifest too.')

    class Meta:
        ordering = ["-data_version", "-created_at", "-pk"]
        get_latest_by = ["data_version", "created_at", "pk"]
        constraints = [
            # A label is a directory that is written once: never two rows for it.
            models.UniqueConstraint(fields=["label"], name="release_label_unique"),
            models.CheckConstraint(
                condition=Q(label__regex=f"^{RELEASE_LABEL_REGEX}$"), name="release_label_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Release {self.label} (data version {self.data_version})"
