"""Previews: a record readers cannot see yet (a draft, a submitted, rejected or
retracted record), or a suggested change to a published one, shown to the staff who
may see it on the page readers will see, rendered by the readers' own views and
templates (issue 15).

A preview says what it is wherever it could travel: a banner at the top of the page
(the record's status, a link back to the admin), ``noindex, nofollow`` for search
engines (a meta tag and ``X-Robots-Tag``), ``Cache-Control: private, no-store`` (the
public response cache, mecfs_kb/response_cache.py, stores nothing marked private or
no-store, and no shared cache may keep it), and no data version: it shows no version of
the knowledge base, so it carries no ``X-Data-Version`` and its footer says so. Nothing
is saved: a suggestion's preview applies the change to the record in memory.

Who may see a preview is who may see the record, by the rule the admin and the API
use (``visible_to``): curators and editors every record; anyone else only what is
public, and a preview address of a public record leads to its public page. A
suggestion's preview follows ``Suggestion.objects.visible_to``: its author and the
editors. Everyone else gets the ordinary 404 page, as for a record that does not exist.

This app knows no domain model: each app says where readers see its records by
registering a ``RecordPreview`` in its ``previews`` module, found at start-up as Django
finds ``admin`` modules (``autodiscover_modules``, from ``CurationConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, wraps
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_cache_control
from django.utils.text import capfirst
from django.views.defaults import page_not_found

from curation.models import Moderated, Status, Suggestion, SuggestionState, moderated_models
from curation.services import _apply, record_publish_blocker

ROBOTS = "noindex, nofollow"
# The element of the page the banner's "go to it" link opens (templates/_preview_mark.html).
MARK_ID = "previewed-claim"


# ---------------------------------------------------------------------------
# What the banner says
# ---------------------------------------------------------------------------


@dataclass
class Preview:
    """One preview: the record as shown (a suggestion's applied, in memory), and what
    the banner tells the curator about it."""

    record: Moderated
    admin_url: str | None
    suggestion: Suggestion | None = None
    # Set by a renderer that shows the record within another record's page (a claim on
    # its therapy's page): the banner then links to it.
    in_page: bool = False
    # Why it could not be published (or the change accepted) as it is, in the services'
    # words (``record_publish_blocker``): a record it rests on is not published.
    blocker: str = ""
    # Fields of a suggestion that could not be applied (the model changed since).
    unshown: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.record._meta.verbose_name)

    @property
    def label(self) -> str:
        return self.suggestion.label if self.suggestion is not None else str(self.record)

    @cached_property
    def status(self) -> str:
        """ "draft", "submitted for review" …; for a suggestion its state."""
        if self.suggestion is None:
            return self.record.get_status_display().lower()
        suggestion = self.suggestion
        if suggestion.state == SuggestionState.PENDING and suggestion.is_stale:
            return "suggested change, stale (the record changed since it was suggested)"
        return f"suggested change, {suggestion.get_state_display().lower()}"

    @property
    def changed(self) -> str:
        """The suggestion's fields in curators' words: "statement, quote"."""
        if self.suggestion is None:
            return ""
        opts = self.record._meta
        names = []
        for name in self.suggestion.changed_fields:
            try:
                names.append(str(opts.get_field(name).verbose_name))
            except FieldDoesNotExist:
                names.append(name.replace("_", " "))
        return ", ".join(names)

    @property
    def mark_id(self) -> str:
        return MARK_ID


# ---------------------------------------------------------------------------
# How each model is previewed: registered by its app (<app>/previews.py)
# ---------------------------------------------------------------------------


class RecordPreview:
    """Where readers see one model's records, and how its page is rendered for a
    preview. Subclass it in ``<app>/previews.py`` and register it with
    ``@preview_register(Model)``."""

    def get_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        """What the page reads with the record (``select_related``, ``prefetch_related``)."""
        return queryset

    def public_url(self, record: Moderated) -> str | None:
        """Where readers see the record once it is public; None where they see it
        nowhere (a lab test that names no published abnormality)."""
        return record.get_absolute_url()

    def render(self, request: HttpRequest, record: Moderated, preview: Preview) -> HttpResponse:
        raise NotImplementedError


_registry: dict[type[Moderated], RecordPreview] = {}


def preview_register(model: type[Moderated]) -> Callable[[type[RecordPreview]], type]:
    def register(cls: type[RecordPreview]) -> type[RecordPreview]:
        _registry[model] = cls()
        return cls

    return register


def previewer_for(model: type[Moderated]) -> RecordPreview | None:
    return _registry.get(model)


# ---------------------------------------------------------------------------
# Addresses: what the admin's "View on site" and "Preview" open
# ---------------------------------------------------------------------------


def preview_url(record: Moderated) -> str | None:
    """The preview address of ``record``; None for a kind of record no app shows."""
    if record.pk is None or previewer_for(type(record)) is None:
        return None
    opts = record._meta
    return reverse("curation:preview-record", args=[opts.app_label, opts.model_name, record.pk])


def suggestion_preview_url(suggestion: Suggestion) -> str:
    return reverse("curation:preview-suggestion", args=[suggestion.pk])


def view_on_site_url(record: Moderated) -> str | None:
    """The admin's "View on site": a published record's public page (its own,
    ``get_absolute_url``); anything else, and a claim (which readers see on another
    record's page), its preview address, which leads a public claim to its place on
    that page. No query: the status is on the record."""
    public = record.pk is not None and record.status == Status.PUBLISHED
    if public and hasattr(record, "get_absolute_url"):
        return record.get_absolute_url()
    return preview_url(record)


def _admin_url(model: type[models.Model], pk: int) -> str | None:
    opts = model._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------------------
# The views
# ---------------------------------------------------------------------------


def _marked(response: HttpResponse) -> HttpResponse:
    # patch_cache_control drops "public" when "private" is given.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = ROBOTS
    return response


def preview_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every response of ``view`` marked private, uncacheable and not for indexing: its
    404 pages too (a refused preview answers as a missing record does)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exc:
            response = page_not_found(request, exc)
        return _marked(response)

    return wrapped


def _curated_model(app_label: str, model_name: str) -> type[Moderated]:
    for model in moderated_models():
        opts = model._meta
        if (opts.app_label, opts.model_name) == (app_label, model_name):
            return model
    raise Http404("No such kind of record.")


@preview_view
def record_preview(request: HttpRequest, app_label: str, model_name: str, pk: int) -> HttpResponse:
    """A record as readers will see it once published."""
    model = _curated_model(app_label, model_name)
    previewer = previewer_for(model)
    if previewer is None:
        raise Http404("Records of this kind have no page.")
    manager = model._default_manager
    record = previewer.get_queryset(manager.visible_to(request.user)).filter(pk=pk).first()
    if record is None:
        raise Http404("No such record, or not yours to see.")
    # Public already (published, and what it rests on too): its page is the real one.
    if record.status == Status.PUBLISHED and manager.published().filter(pk=pk).exists():
        url = previewer.public_url(record)
        if url:
            return HttpResponseRedirect(url)
    preview = Preview(
        record=record,
        admin_url=_admin_url(model, record.pk),
        blocker=record_publish_blocker(record=record),
    )
    return previewer.render(request, record, preview)


@preview_view
def suggestion_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The published record with a suggested change applied (in memory, never saved)."""
    # for_display(): with the record's version, to tell a stale suggestion (no query more).
    suggestion = Suggestion.objects.visible_to(request.user).for_display().filter(pk=pk).first()
    if suggestion is None:
        raise Http404("No such suggestion, or not yours to see.")
    model = suggestion.record_model
    previewer = previewer_for(model) if model is not None else None
    if previewer is None:
        raise Http404("Records of this kind have no page.")
    queryset = previewer.get_queryset(model._default_manager.visible_to(request.user))
    record = queryset.filter(pk=suggestion.object_id).first()
    if record is None:
        raise Http404("The record this suggestion changes no longer exists.")
    unshown = suggestion_apply(record=record, suggestion=suggestion)
    preview = Preview(
        record=record,
        admin_url=_admin_url(Suggestion, suggestion.pk),
        suggestion=suggestion,
        blocker=record_publish_blocker(record=record),
        unshown=unshown,
    )
    return previewer.render(request, record, preview)


def suggestion_apply(*, record: Moderated, suggestion: Suggestion) -> list[str]:
    """Set the suggested values on ``record`` in memory, as accepting would (the same
    ``_apply`` as ``suggestion_accept``), without saving. Changed many-to-many links are
    put in the record's prefetch cache, as readers would see them (published records
    only). Returns the fields that could not be applied: gone from the model, or linking
    to a record deleted since."""
    unshown = []
    changes = suggestion.changes if isinstance(suggestion.changes, dict) else {}
    for name, change in changes.items():
        try:
            if not _target_exists(record, name, change["new"]):
                raise ValidationError("The record it links to was deleted.")
            many = _apply(record, {name: change["new"]})
        except (FieldDoesNotExist, ValidationError, KeyError, TypeError):
            unshown.append(name.replace("_", " "))
            continue
        for many_name, pks in many.items():
            target = record._meta.get_field(many_name).related_model
            linked = target._default_manager.filter(pk__in=pks)
            if hasattr(linked, "published"):
                linked = linked.published()
            if not hasattr(record, "_prefetched_objects_cache"):
                record._prefetched_objects_cache = {}
            record._prefetched_objects_cache[many_name] = linked
    return unshown


def _target_exists(record: Moderated, name: str, value: Any) -> bool:
    """A link's new target still exists (one query, for a changed link only)."""
    model_field = record._meta.get_field(name)
    if not model_field.many_to_one or value is None:
        return True
    return model_field.related_model._default_manager.filter(pk=value).exists()


# ---------------------------------------------------------------------------
# Rendering with the readers' views
# ---------------------------------------------------------------------------


class PreviewPageMixin:
    """For a reader's page view: the record it shows is given (``shown``), not looked
    up among the published ones, and ``claim`` (a record readers see on that page) is
    placed first in the context list ``into``, marked ``previewed``, in place of any
    copy of it the view read from the database. The template gets ``preview`` (the
    banner, the meta tag)."""

    shown: Moderated | None = None
    claim: Moderated | None = None
    into: str = ""
    preview: Preview | None = None

    def get_object(self, queryset=None):
        return self.shown

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.claim is not None:
            preview_place(context, self.claim, into=self.into)
            self.preview.in_page = True
        context["preview"] = self.preview
        return context


def preview_place(context: dict[str, Any], record: Moderated, *, into: str) -> None:
    """Put ``record``, marked ``previewed``, first in the list ``context[into]``, and take
    any other copy of it out of the page's lists (its published version, or its
    retracted one shown apart)."""
    for value in context.values():
        _take_out(value, record)
    record.previewed = True
    context[into] = [record, *context.get(into, [])]


def _take_out(value: Any, record: Moderated) -> None:
    if isinstance(value, list):
        value[:] = [
            item for item in value if not (type(item) is type(record) and item.pk == record.pk)
        ]
        for item in value:
            _take_out(item, record)
    elif isinstance(value, tuple):
        for item in value:
            _take_out(item, record)


def preview_nowhere(request: HttpRequest, preview: Preview, why: str) -> HttpResponse:
    """For a record readers would see nowhere as it is (a lab test that names no
    abnormality): the banner and why, on a plain page."""
    return TemplateResponse(
        request,
        "curation/preview_nowhere.html",
        {"preview": preview, "why": why, "title": capfirst(preview.kind)},
    )
