"""Moderation shared by every curated record: statuses, the moderated base model and
its queryset (the ground floor; it knows no domain model)."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
    RETRACTED = "retracted", "Retracted"


# Retracted records are kept and shown as retracted on their own pages, so that a
# reader who followed a link learns why the claim was withdrawn; they are never
# listed, ranked, counted or exported (those start from ``.published()``).
VISIBLE_STATUSES = (Status.PUBLISHED, Status.RETRACTED)

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class ModeratedQuerySet(models.QuerySet):
    def published(self):
        """What readers may see: pages, API, feeds and exports all start here."""
        return self.filter(status=Status.PUBLISHED)

    def visible(self):
        """What a detail page may show: published, or retracted (shown as retracted).
        Lists, rankings and exports use ``.published()`` instead."""
        return self.filter(status__in=VISIBLE_STATUSES)

    def visible_to(self, user):
        """Everything for staff who may view this model (curators and editors need their
        drafts back); only what readers may see for everyone else."""
        opts = self.model._meta
        if user.is_authenticated and user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            return self.all()
        return self.published()


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

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
        ]

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def is_retracted(self) -> bool:
        return self.status == Status.RETRACTED

    @property
    def version(self) -> str:
        """An opaque token that changes whenever the record is saved: the admin's
        conflict check and the API's ETag / If-Match both compare it.

        ``updated_at`` (auto_now) moves on every save, so no extra column is needed;
        microseconds since the epoch keep it exact on SQLite and PostgreSQL alike."""
        return version_token(self.updated_at)


def version_token(updated_at: datetime.datetime | None) -> str:
    if updated_at is None:
        return ""
    return str((updated_at - _EPOCH) // datetime.timedelta(microseconds=1))
