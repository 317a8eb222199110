"""Moderation shared by every curated record: statuses, the moderated base model and
its queryset (the ground floor; it knows no domain model)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models
from django.db.models import Case, Count, DateTimeField, Exists, OuterRef, Q, Subquery, When
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from curation.checks import DecidedInPython


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
    RETRACTED = "retracted", "Retracted"


# Retracted records are kept and shown as retracted, with the editor's reason, wherever
# they appear (in a group of their own), so that a reader who followed a link or
# remembers a claim learns why it was withdrawn; they are never ranked or counted (every
# ranking, count and summary starts from ``.published()``).
VISIBLE_STATUSES = (Status.PUBLISHED, Status.RETRACTED)

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


# What readers may see, as built from a model's manager: (model, what, …) -> the
# queryset, never read itself (``ModeratedQuerySet._readers``).
_READERS_ROWS: dict[tuple, models.QuerySet] = {}


class ModeratedQuerySet(models.QuerySet):
    # The reader methods this queryset was made by, from a manager's untouched queryset
    # (``ModeratedManager``: ``()``), e.g. ``("published", "with_evidence_summary")``;
    # None for any other. A chained queryset is a new object, without it.
    _readers_path: tuple | None = None

    @classmethod
    def as_manager(cls):
        manager = ModeratedManager.from_queryset(cls)()
        manager._built_with_queryset_class = True
        return manager

    as_manager.queryset_only = True

    def _readers(self, what: tuple, build):
        """``build()``, which only reads ``self`` and constants, built once per process
        and model when ``self`` is a manager's untouched queryset or one made from it by
        reader methods alone (``what`` names the method and its arguments), and cloned
        for each caller (what Django does with a view's ``queryset`` attribute): what
        readers may see is the same filter on every request, and building it (the
        parents' conditions, the row-by-row subqueries, a list's annotations) was an
        eighth of an API list's CPU (issue 14). No rows are kept: the clone reads the
        database as any queryset."""
        if self._readers_path is None:
            return build()
        path = (*self._readers_path, *what)
        key = (self.model, *path)
        rows = _READERS_ROWS.get(key)
        if rows is None:
            rows = _READERS_ROWS[key] = build()
        rows = rows._chain()
        rows._readers_path = path
        return rows

    def _with_public_parents(self):
        """A claim is public only with the records it rests on (its source, therapy,
        abnormality …) public too: a model's queryset narrows this; the three reads
        below apply it alike."""
        return self

    def published(self):
        """What readers may see: pages, API, feeds and exports all start here."""
        return self._readers(
            ("published",), lambda: self.filter(status=Status.PUBLISHED)._with_public_parents()
        )

    def visible(self):
        """What a detail page may show: published, or retracted (shown as retracted).
        Lists, rankings and exports use ``.published()`` instead."""
        return self._readers(
            ("visible",),
            lambda: self.filter(status__in=VISIBLE_STATUSES)._with_public_parents(),
        )

    def retracted(self):
        """Withdrawn by an editor: shown apart, as retracted and with the reason, never
        counted or ranked with the published records."""
        return self._readers(
            ("retracted",), lambda: self.filter(status=Status.RETRACTED)._with_public_parents()
        )

    def _sees_all(self, user) -> bool:
        """Whether ``user`` may view every record of this model (curators and editors)."""
        opts = self.model._meta
        return user.is_authenticated and user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    def visible_to(self, user, *, retracted: bool = False):
        """Everything for staff who may view this model (curators and editors need their
        drafts back); only what readers may see for everyone else: published records,
        and with ``retracted=True`` retracted ones too (shown as retracted)."""
        if self._sees_all(user):
            return self.all()
        return self.visible() if retracted else self.published()

    def listed_visible_to(self, user, *, retracted: bool = False):
        """The rows ``visible_to(user)`` shows, with their own status in the outer query
        and their parents' tested row by row (a correlated EXISTS on the primary key): for
        a long list read a page at a time in its default order. With the parents' joins
        in the outer query, SQLite starts from a parent's status index and sorts every
        visible row before the page (issue 14); here it walks the list's order index and
        stops after the page. PostgreSQL walks that index with the joins too, and plans
        the EXISTS worse for a filtered list (at 500k: a therapy's or an abnormality's
        list 1.5x slower): there it is ``visible_to``."""
        if connections[self.db].vendor != "sqlite":
            return self.visible_to(user, retracted=retracted)
        if self._sees_all(user):
            return self.all()  # a curator sees every row: nothing to test

        def build():
            rows = self.linked_visible_to(user, retracted=retracted)
            # Their own status in the outer query too: the order index is walked for it.
            return rows.filter(status__in=VISIBLE_STATUSES if retracted else (Status.PUBLISHED,))

        return self._readers(("listed", retracted), build)

    def linked_visible_to(self, user, *, retracted: bool = False):
        """The rows ``visible_to(user)`` shows, tested row by row (a correlated EXISTS on
        the primary key) rather than by joins in the outer query: for a prefetch that
        reaches a few rows through a link table (a page's contradiction links). With the
        status and parents' joins in the outer query, a planner without statistics
        (SQLite before ANALYZE) starts from the status index and reads every published
        row to find the few linked ones (seconds at 100k); here the only condition it can
        start from is the link table's."""
        if self._sees_all(user):
            return self  # a curator sees every row: nothing to test

        def build():
            visible = self.model._default_manager.visible_to(user, retracted=retracted)
            if not visible.query.where:
                return self  # a model whose readers see every row
            return self.filter(Exists(visible.filter(pk=OuterRef("pk"))))

        return self._readers(("linked", retracted), build)


class ModeratedManager(models.Manager):
    """The manager of a moderated model: its querysets start untouched
    (``ModeratedQuerySet._readers_path``), so what readers may see is built from them
    once."""

    def get_queryset(self):
        rows = super().get_queryset()
        rows._readers_path = ()
        return rows


def choices_judged_by_field(model: type[models.Model], constraint) -> bool:
    """Whether ``constraint`` is a ``CheckConstraint`` that only says one editable field
    holds one of its choices (``Q(<field>__in=<values>)``, the values covering the
    field's choices, and "" too when the field may be blank): then every value
    ``Model.clean_fields`` accepts satisfies it, so asking the database again in
    ``validate_constraints`` can only agree (issue 14: four such queries per claim
    saved). A field that ``clean_fields`` skips (not editable) or any other condition is
    left to the database query."""
    if not isinstance(constraint, models.CheckConstraint):
        return False
    condition = constraint.condition
    if not isinstance(condition, Q) or condition.negated or len(condition.children) != 1:
        return False
    child = condition.children[0]
    if not isinstance(child, tuple):
        return False
    lookup, values = child
    name, _, operator = lookup.partition("__")
    if operator != "in" or not isinstance(values, (list, tuple, set, frozenset)):
        return False
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    if not field.concrete or field.is_relation or not field.editable or not field.choices:
        return False
    allowed = set(values)
    if field.blank and "" not in allowed:
        return False  # clean_fields lets an empty value through: the constraint may not
    return {value for value, _ in field.flatchoices} <= allowed


@dataclass(frozen=True)
class Retraction:
    """What readers are told about a withdrawn record: when, and the editor's reason."""

    retracted_at: datetime.datetime | None
    reason: str


class Moderated(models.Model):
    """Review workflow fields. Only published records are public (DESIGN.md)."""

    status = models.CharField(
        max_length=12,
        choices=Status.choices,
        default=Status.DRAFT,
        db_index=True,
        help_text="Only published records are shown to readers. Curators create and submit; "
        "editors publish or reject, never their own submissions.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_note = models.TextField(
        blank=True, help_text="The editor's reason for publishing, rejecting or retracting."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ModeratedQuerySet.as_manager()

    # Fields a record may leave empty as a draft but must fill before it is published
    # (``record_publish_blocker`` names the first empty one); a domain model sets them.
    publish_requires: tuple[str, ...] = ()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    # Fields (by attname) whose stored value a save compares with the new one
    # (``as_read``): the status, so that a save can tell whether readers could see the
    # record before it (curation/cache.py: a draft's saves leave their cache alone);
    # models add their own (findings/models.py: a claim's source, a source's year).
    kept_as_read: tuple[str, ...] = ("status",)

    # True while the database itself checks this record's parents as it is saved
    # (curation/services.py ``_save_checked`` on PostgreSQL): ``clean_fields`` then
    # leaves out ForeignKey's existence query, one per parent, and judges the rest.
    parents_checked_at_save = False

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.keep_as_read()

    def clean_fields(self, exclude=None):
        if self.parents_checked_at_save:
            exclude = {
                *(exclude or ()),
                *(
                    field.name
                    for field in self._meta.concrete_fields
                    # A parent given: ForeignKey.validate would only ask whether its
                    # row exists (no field here has validators or limit_choices_to).
                    if field.many_to_one
                    and getattr(self, field.attname) is not None
                    and not field.validators
                    and not field.remote_field.limit_choices_to
                ),
            }
        super().clean_fields(exclude=exclude)

    def get_constraints(self):
        """The constraints ``validate_constraints`` judges: not those that only say a
        field holds one of its choices, which ``clean_fields`` has judged already, with
        Django's message at the field (``choices_judged_by_field``); the other check
        constraints decided in Python where that is certain, else by a query and a
        savepoint each, as Django does (curation/checks.py). The database still enforces
        every constraint on every write; a model that narrows the list further calls
        this through ``super()``."""
        return [
            (
                model,
                [
                    DecidedInPython(c) if isinstance(c, models.CheckConstraint) else c
                    for c in constraints
                    if not choices_judged_by_field(model, c)
                ],
            )
            for model, constraints in super().get_constraints()
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        record = super().from_db(db, field_names, values)
        record.keep_as_read()
        return record

    def keep_as_read(self) -> None:
        self._as_read = {
            name: self.__dict__.get(name, models.DEFERRED) for name in self.kept_as_read
        }

    def as_read(self, name: str):
        """The value of ``name`` (one of ``kept_as_read``) as last read from or saved to
        the database; ``models.DEFERRED`` when unknown (built in memory, or deferred)."""
        return getattr(self, "_as_read", {}).get(name, models.DEFERRED)

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def is_retracted(self) -> bool:
        return self.status == Status.RETRACTED

    @property
    def retraction(self) -> Retraction | None:
        """When and why an editor retracted it (``record_retract`` keeps the note as
        ``review_note``); None unless retracted. A published record's review note is the
        editors' own business and is never shown."""
        if not self.is_retracted:
            return None
        return Retraction(retracted_at=self.reviewed_at, reason=self.review_note)

    @property
    def version(self) -> str:
        """An opaque token that changes whenever the record is saved: the admin's
        conflict check and the API's ETag / If-Match both compare it.

        ``updated_at`` (auto_now) moves on every save, so no extra column is needed;
        microseconds since the epoch keep it exact on SQLite and PostgreSQL alike."""
        return version_token(self.updated_at)


def excerpt(text: str, chars: int = 60) -> str:
    """The start of ``text`` on one line, cut at a word with "…" when longer: what tells
    two claims about the same things apart in a name, a list or a message. For display
    only; the text itself is never cut."""
    return Truncator(" ".join(text.split())).chars(chars)


def version_token(updated_at: datetime.datetime | None) -> str:
    if updated_at is None:
        return ""
    return str((updated_at - _EPOCH) // datetime.timedelta(microseconds=1))


def moderated_models() -> list[type[Moderated]]:
    """Every curated model, found by its base class among the installed models (this
    app knows none of them by name), in the order the apps and models are declared."""
    from django.apps import apps

    return [model for model in apps.get_models() if issubclass(model, Moderated)]


def content_of(model: type[models.Model]) -> Q:
    """Rows whose ``content_type`` is ``model``'s, by name: a join on the content type
    table rather than a lookup of its id, so the query count does not depend on
    ContentType's cache."""
    opts = model._meta
    return Q(content_type__app_label=opts.app_label, content_type__model=opts.model_name)


# ---------------------------------------------------------------------------
# Who wrote what: the rule "nobody publishes or accepts content they wrote"
# ---------------------------------------------------------------------------


class ContributionKind(models.TextChoices):
    CREATED = "created", "Created"
    EDITED = "edited", "Edited"
    RESTORED = "restored", "Restored from history"
    SUGGESTED = "suggested", "Suggested a change"


class Contribution(models.Model):
    """One user wrote content into one curated record (created it, edited it as a
    draft, restored it, or suggested a change to it).

    The review rules read it: an editor may not publish a record whose content they
    wrote, whoever created or submitted it. Status changes are not contributions."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=ContributionKind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [
            # "Did this user write any of this record?" is asked on every publish.
            models.Index(
                fields=["content_type", "object_id", "user"], name="contribution_record_user"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ContributionKind.values),
                name="curation_contribution_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        what = f"{self.content_type.model} #{self.object_id}"
        return f"{self.user} {self.get_kind_display().lower()} {what}"


# ---------------------------------------------------------------------------
# Suggested revisions: a change to a published record, reviewed before readers see it
# ---------------------------------------------------------------------------


class SuggestionState(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    STALE = "stale", "Stale (the record changed since)"
    WITHDRAWN = "withdrawn", "Withdrawn by its author"


class SuggestionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=SuggestionState.PENDING)

    def visible_to(self, user):
        """Its author sees a suggestion, with its state and the editor's note; editors
        see every suggestion about the models they review (``review_<model>``).
        The admin and the API both start here."""
        if not user.is_authenticated:
            return self.none()
        reviewed = Q()
        for model in moderated_models():
            opts = model._meta
            if user.has_perm(f"{opts.app_label}.review_{opts.model_name}"):
                reviewed |= content_of(model)
        return self.filter(Q(author=user) | reviewed)

    def of_kind(self, *kinds: type[models.Model]):
        """Suggestions about records of any of the models ``kinds``."""
        wanted = Q()
        for model in kinds:
            wanted |= content_of(model)
        return self.filter(wanted) if kinds else self.none()

    def for_display(self):
        """What a list or a page of suggestions shows, in one query for any number."""
        return self.select_related("content_type", "author", "reviewed_by").with_record_version()

    def with_record_version(self):
        """Annotate ``record_updated_at``: when the record each suggestion is about was
        last saved (None if it is gone), for ``Suggestion.is_stale``. One correlated
        subquery per curated model inside the same query, whatever the rows' kinds."""
        whens = [
            When(
                content_of(model),
                then=Subquery(
                    model._default_manager.filter(pk=OuterRef("object_id")).values("updated_at")[:1]
                ),
            )
            for model in moderated_models()
        ]
        return self.annotate(
            record_updated_at=Case(*whens, default=None, output_field=DateTimeField())
        )

    def for_record(self, record: models.Model):
        return self.filter(
            content_type=ContentType.objects.get_for_model(type(record)), object_id=record.pk
        )


class Suggestion(models.Model):
    """A change to a published record, kept aside: readers see the published version
    until a different editor accepts it (curation/revisions.py)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    label = models.CharField(
        max_length=300, help_text="The record as it was named when the change was suggested."
    )
    changes = models.JSONField(
        help_text='The fields it changes: {"field": {"old": …, "new": …}}, values as the API '
        "writes them (ids for links, lists of ids for many-to-many links)."
    )
    base_version = models.CharField(
        max_length=32, help_text="The record's version the change was made against."
    )
    reason = models.TextField(blank=True, help_text="Why the change is needed, for the editor.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suggestions"
    )
    state = models.CharField(
        max_length=12,
        choices=SuggestionState.choices,
        default=SuggestionState.PENDING,
        db_index=True,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(
        blank=True, help_text="The editor's reason for accepting or rejecting."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # A record's pending suggestions (marked stale when the record changes).
            models.Index(fields=["content_type", "object_id", "state"], name="suggestion_record"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=SuggestionState.values), name="curation_suggestion_state"
            ),
            # Nobody accepts their own suggestion, whatever path the row took.
            models.CheckConstraint(
                condition=Q(reviewed_by__isnull=True) | ~Q(reviewed_by=models.F("author")),
                name="curation_suggestion_not_self_reviewed",
            ),
        ]

    def __str__(self) -> str:
        fields = ", ".join(self.changes) if isinstance(self.changes, dict) else ""
        return f"Change to {self.label} ({fields})"

    @property
    def is_pending(self) -> bool:
        return self.state == SuggestionState.PENDING

    @property
    def changed_fields(self) -> list[str]:
        return sorted(self.changes) if isinstance(self.changes, dict) else []

    @property
    def record_model(self) -> type[Moderated]:
        return self.content_type.model_class()

    @property
    def is_stale(self) -> bool:
        """It cannot be accepted as it is: marked stale, or still waiting although the
        record was saved since it was made (accepting it would then mark it stale).

        Reads ``record_updated_at`` from ``with_record_version()`` when the row has it
        (lists), else the record's version (one query)."""
        if self.state == SuggestionState.STALE:
            return True
        if self.state != SuggestionState.PENDING:
            return False
        if hasattr(self, "record_updated_at"):
            updated_at = self.record_updated_at
        else:
            updated_at = (
                self.record_model._default_manager.filter(pk=self.object_id)
                .values_list("updated_at", flat=True)
                .first()
            )
        return version_token(updated_at) != self.base_version


# ---------------------------------------------------------------------------
# The data version: one number per change readers can see
# ---------------------------------------------------------------------------


# A version that changed many records (the seed's first load, a large import) shows
# this many changes where versions are listed, and all of them on its own page.
CHANGES_SHOWN = 25


class DataVersionQuerySet(models.QuerySet):
    def with_changes(self, *, shown: int = CHANGES_SHOWN):
        """Versions with how many records each added, revised and retracted, and their
        first ``shown`` changes with content types (one window-function query for all
        the versions' changes)."""
        return self.annotate(
            **{
                f"{action.value}_count": Count("changes", filter=Q(changes__action=action))
                for action in DataChangeAction
            },
            change_count=Count("changes"),
        ).prefetch_related(
            models.Prefetch(
                "changes",
                queryset=DataChange.objects.select_related("content_type").order_by("pk")[:shown],
                to_attr="shown_changes",  # a sliced prefetch needs its own attribute
            )
        )


class DataVersion(models.Model):
    """The knowledge base as readers see it moves to a new version on every publish,
    accepted suggestion or retraction (curation/versions.py)."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DataVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        get_latest_by = "number"

    def __str__(self) -> str:
        return f"Data version {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("curation:version", args=[self.number])

    @property
    def summary(self) -> str:
        """ "3 added, 1 revised, 1 retracted", from the counts ``with_changes()`` adds."""
        parts = [
            f"{count} {action.label.lower()}"
            for action in DataChangeAction
            if (count := getattr(self, f"{action.value}_count", 0))
        ]
        return ", ".join(parts) or "no changes"

    @property
    def more_changes(self) -> int:
        """How many of its changes ``with_changes()`` left out."""
        return self.change_count - len(self.shown_changes)

    def change_groups(self) -> list[tuple[str, list[DataChange]]]:
        """The changes ``with_changes()`` fetched, grouped (``changes_grouped``)."""
        return changes_grouped(self.shown_changes)


class DataChangeAction(models.TextChoices):
    ADDED = "added", "Added"
    REVISED = "revised", "Revised"
    RETRACTED = "retracted", "Retracted"


class DataChange(models.Model):
    """What one data version did to one record."""

    version = models.ForeignKey(DataVersion, on_delete=models.PROTECT, related_name="changes")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    action = models.CharField(max_length=12, choices=DataChangeAction.choices)
    label = models.CharField(max_length=300, help_text="The record as named at the time.")
    fields = models.JSONField(default=list, blank=True, help_text="For a revision: which fields.")
    note = models.TextField(blank=True, help_text="The editor's note (for a retraction, why).")

    class Meta:
        ordering = ["-version__number", "pk"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="datachange_record")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=DataChangeAction.values),
                name="curation_datachange_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version}: {self.get_action_display().lower()} {self.label}"

    @property
    def record_kind(self) -> str:
        """What the record is, in readers' words ("therapy evidence")."""
        model = self.content_type.model_class()
        return str(model._meta.verbose_name) if model else self.content_type.model

    @property
    def field_labels(self) -> list[str]:
        """The revised fields in readers' words (their verbose names); a field that no
        longer exists keeps its stored name."""
        model = self.content_type.model_class()
        labels = []
        for name in self.fields or []:
            try:
                labels.append(str(model._meta.get_field(name).verbose_name))
            except (AttributeError, FieldDoesNotExist):
                labels.append(name.replace("_", " "))
        return labels

    @property
    def reason(self) -> str:
        """Why a record was retracted. Only retraction reasons are public: the note of a
        publish or an accepted suggestion is written for curators."""
        return self.note if self.action == DataChangeAction.RETRACTED else ""


def changes_grouped(changes: Iterable[DataChange]) -> list[tuple[str, list[DataChange]]]:
    """Changes grouped as readers read them: added, then revised, then retracted (each
    group in the order given); empty groups left out."""
    changes = list(changes)
    return [
        (action.label, group)
        for action in DataChangeAction
        if (group := [c for c in changes if c.action == action])
    ]
