"""The editors' side of review in the admin: suggested revisions (a list, and a page per
suggestion with its field-by-field difference and the Accept / Reject / Withdraw
buttons), the review queue (everything waiting for an editor, on one page) and the
counts on the admin index.

Every button calls the review service (curation/revisions.py) and shows its refusal
as it words it, so the rules are those of the API. Curators see their own suggestions,
with their state and the editor's note; editors see all of them
(``Suggestion.objects.visible_to``)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import CharField, Count, Q, Value
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst

from curation.models import Moderated, Status, Suggestion, SuggestionState, moderated_models
from curation.preview import previewer_for, suggestion_preview_url
from curation.revisions import (
    suggestion_accept,
    suggestion_diff,
    suggestion_reject,
    suggestion_withdraw,
)
from curation.services import ReviewError, record_can_edit, record_can_review

# ---------------------------------------------------------------------------
# A readable difference between two values
# ---------------------------------------------------------------------------

# A word with the spaces after it (and any spaces the text starts with): a run of
# changed words is then marked as one, spaces included.
_WORDS = re.compile(r"^\s+|\S+\s*")


def shown(value: Any) -> str:
    """A stored value as a curator reads it; empty stays empty (the page says so)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return str(value)


def word_diff(old: str, new: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``old`` and ``new`` as runs of ``(kind, text)``: "same" in both, "del" only in
    ``old``, "ins" only in ``new``, compared word by word, so that one changed word in
    a long quote is what the eye finds. Joining a side's runs gives its text back."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    before: list[tuple[str, str]] = []
    after: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _add(before, "same", a[i1:i2])
            _add(after, "same", b[j1:j2])
            continue
        _add(before, "del", a[i1:i2])
        _add(after, "ins", b[j1:j2])
    return before, after


def _add(runs: list[tuple[str, str]], kind: str, words: list[str]) -> None:
    text = "".join(words)
    # A changed run's trailing spaces are shown unmarked (a struck-out space reads as
    # a stray mark), and still belong to the text.
    stripped = text.rstrip() if kind != "same" else text
    for part_kind, part in ((kind, stripped), ("same", text[len(stripped) :])):
        if not part:
            continue
        if runs and runs[-1][0] == part_kind:
            runs[-1] = (part_kind, runs[-1][1] + part)
        else:
            runs.append((part_kind, part))


@dataclass
class DiffRow:
    label: str
    field: str
    old: list[tuple[str, str]]
    new: list[tuple[str, str]]
    old_empty: bool
    new_empty: bool


def diff_rows(suggestion: Suggestion) -> list[DiffRow]:
    """``suggestion_diff``'s rows (links and choices by name), marked word by word."""
    rows = []
    for row in suggestion_diff(suggestion):
        old, new = shown(row["old"]), shown(row["new"])
        before, after = word_diff(old, new)
        rows.append(
            DiffRow(
                label=capfirst(row["label"]),
                field=row["field"],
                old=before,
                new=after,
                old_empty=not old,
                new_empty=not new,
            )
        )
    return rows


# ---------------------------------------------------------------------------
# Suggestions in the admin
# ---------------------------------------------------------------------------


def _record_url(model: type[Moderated], pk: int) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    except NoReverseMatch:
        return None


class KindFilter(admin.SimpleListFilter):
    """The kind of record a suggestion changes: the curated models only."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [
            (model._meta.label_lower, capfirst(model._meta.verbose_name))
            for model in moderated_models()
        ]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        model = _curated_model(self.value())
        if model is None:
            raise IncorrectLookupParameters(f"Unknown kind: {self.value()}")
        return queryset.of_kind(model)


def _curated_model(label: str) -> type[Moderated] | None:
    return next((m for m in moderated_models() if m._meta.label_lower == label), None)


class SuggestionReviewForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        label="Note",
        help_text="Required to reject: say why, for its author (who reads it here and in the "
        "API). Optional to accept.",
    )


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    index_group = "work"
    index_order = 2
    index_question = "which changes to published records wait for an editor?"
    list_display = [
        "changed_fields_link",
        "record_link",
        "kind",
        "author",
        "state_shown",
        "editor_note",
        "created_at",
    ]
    list_display_links = ["changed_fields_link"]
    list_filter = ["state", KindFilter, ("author", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["content_type", "author", "reviewed_by"]
    search_fields = ["label", "reason"]
    list_per_page = 50
    # One COUNT(*) per page: the unfiltered total would scan again for nothing.
    show_full_result_count = False

    # Suggestions come from edits (record_edit) and change only through the review
    # service: nobody adds, edits or deletes one here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # for_display(): the list and a suggestion's page alike, in one query.
        return super().get_queryset(request).visible_to(request.user).for_display()

    # --- the list ---------------------------------------------------------------------

    @admin.display(description="fields changed")
    def changed_fields_link(self, obj: Suggestion) -> str:
        return ", ".join(obj.changed_fields) or "—"

    @admin.display(description="record", ordering="label")
    def record_link(self, obj: Suggestion) -> str:
        url = _record_url(obj.record_model, obj.object_id)
        if url is None:
            return obj.label
        return format_html('<a href="{}">{}</a>', url, obj.label)

    @admin.display(description="kind", ordering="content_type__model")
    def kind(self, obj: Suggestion) -> str:
        return capfirst(obj.record_model._meta.verbose_name)

    @admin.display(description="state", ordering="state")
    def state_shown(self, obj: Suggestion) -> str:
        if obj.state == SuggestionState.PENDING and obj.is_stale:
            return "Waiting, but stale: the record changed since"
        return obj.get_state_display()

    @admin.display(description="editor's note")
    def editor_note(self, obj: Suggestion) -> str:
        return Truncator(obj.review_note).chars(80) or "—"

    def changelist_view(self, request, extra_context=None):
        context = {"can_open_queue": bool(reviewed_models(request.user)), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    # --- one suggestion: its difference and the review buttons --------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        actions = [
            path(
                f"<path:object_id>/{action}/",
                self.admin_site.admin_view(self.review_view),
                {"action": action},
                name="{}_{}_{}".format(*info, action),
            )
            for action in ("accept", "reject", "withdraw")
        ]
        return [*actions, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        suggestion = self.get_object(request, unquote(object_id))
        if suggestion is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, suggestion):
            raise PermissionDenied
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        model = suggestion.record_model
        user = request.user
        is_author = suggestion.author_id == user.pk
        context = {
            **self.admin_site.each_context(request),
            "title": f"Suggested change to {model._meta.verbose_name} “{suggestion.label}”",
            "subtitle": None,
            "opts": self.opts,
            "suggestion": suggestion,
            "kind": capfirst(model._meta.verbose_name),
            "record_url": _record_url(model, suggestion.object_id),
            "preview_url": suggestion_preview_url(suggestion) if previewer_for(model) else None,
            "rows": diff_rows(suggestion),
            "stale": suggestion.is_stale,
            "is_author": is_author,
            "can_review": suggestion.is_pending
            and not is_author
            and record_can_review(record=model, user=user),
            "can_withdraw": suggestion.is_pending and is_author,
            "form": SuggestionReviewForm(),
            "has_view_permission": True,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/curation/suggestion/review.html", context)

    def review_view(self, request, object_id, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        suggestion = self.get_object(request, unquote(object_id))
        if suggestion is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        note = request.POST.get("note", "")
        try:
            if action == "accept":
                suggestion_accept(suggestion=suggestion, user=request.user, note=note)
                done = (
                    f"Accepted: {suggestion.label} now reads as suggested, for readers too. "
                    "Its history names the author and you."
                )
            elif action == "reject":
                suggestion_reject(suggestion=suggestion, user=request.user, note=note)
                done = "Rejected. Its author reads your note with the suggestion."
            else:
                suggestion_withdraw(suggestion=suggestion, user=request.user)
                done = "Withdrawn."
        except ReviewError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        except ValidationError as exc:
            # The record as suggested no longer passes validation (a rule changed since).
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[suggestion.pk],
                current_app=self.admin_site.name,
            )
        )


# ---------------------------------------------------------------------------
# What waits for an editor: the review queue and the counts on the admin index
# ---------------------------------------------------------------------------

# A queue longer than this per kind is not read row by row; the page says so.
QUEUE_LIMIT = 200


def reviewed_models(user) -> list[type[Moderated]]:
    """The curated models ``user`` reviews (``review_<model>``): an editor's queue."""
    return [model for model in moderated_models() if record_can_review(record=model, user=user)]


def waiting_counts(user) -> dict[str, int]:
    """``{"submitted": records submitted for review, "suggestions": pending suggestions}``
    over the models ``user`` reviews, in one query (a UNION ALL of one COUNT per model)."""
    models = reviewed_models(user)
    if not models:
        return {"submitted": 0, "suggestions": 0}

    def count(queryset, name: str):
        # No GROUP BY: one row per part, its count (zero included).
        return (
            queryset.order_by()
            .annotate(waiting=Value(name, output_field=CharField()))
            .values("waiting")
            .annotate(n=Count("pk"))
            .values_list("waiting", "n")
        )

    submitted = [
        count(model._default_manager.filter(status=Status.SUBMITTED), "submitted")
        for model in models
    ]
    pending = count(Suggestion.objects.pending().of_kind(*models), "suggestions")
    totals = {"submitted": 0, "suggestions": 0}
    for name, n in submitted[0].union(*submitted[1:], pending, all=True):
        totals[name] += n
    return totals


class QueueFilterForm(forms.Form):
    """The queue's filters. Not a FilterSet: the queue is several querysets (one per
    curated model, and the suggestions), each filtered by these same three values."""

    STATUSES = [
        ("", "Everything waiting"),
        ("submitted", "Submitted records"),
        ("suggestions", "Suggestions"),
        ("stale", "Stale suggestions"),
    ]

    status = forms.ChoiceField(choices=STATUSES, required=False, label="Waiting")
    kind = forms.ChoiceField(required=False, label="Kind")
    author = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_staff=True).order_by("username"),
        to_field_name="username",
        required=False,
        empty_label="Anyone",
        label="Author",
    )

    def __init__(self, *args, models: list[type[Moderated]], **kwargs):
        super().__init__(*args, **kwargs)
        self.models = models
        self.fields["kind"].choices = [
            ("", "Any kind"),
            *((m._meta.label_lower, capfirst(m._meta.verbose_name)) for m in models),
        ]


@dataclass
class QueueRow:
    waiting: str  # "submitted" or "suggestion"
    kind: str
    label: str
    url: str | None
    author: Any
    since: datetime
    fields: list[str] = field(default_factory=list)
    stale: bool = False
    yours: bool = False


def review_queue(
    user,
    *,
    models: list[type[Moderated]],
    status: str = "",
    author=None,
    admin_site: admin.AdminSite = admin.site,
) -> tuple[list[QueueRow], bool]:
    """What waits for review in ``models``, longest-waiting first, and whether a kind
    had more than ``QUEUE_LIMIT`` rows. One query per model and one for suggestions."""
    rows: list[QueueRow] = []
    cut = False
    if status in ("", "submitted"):
        for model in models:
            queryset = model._default_manager.filter(status=Status.SUBMITTED)
            if author is not None:
                queryset = queryset.filter(Q(created_by=author) | Q(submitted_by=author))
            records = list(
                queryset.select_related(
                    "created_by", "submitted_by", *_label_relations(admin_site, model)
                ).order_by("updated_at", "pk")[: QUEUE_LIMIT + 1]
            )
            cut = cut or len(records) > QUEUE_LIMIT
            for record in records[:QUEUE_LIMIT]:
                who = record.submitted_by or record.created_by
                rows.append(
                    QueueRow(
                        waiting="submitted",
                        kind=capfirst(model._meta.verbose_name),
                        label=str(record),
                        url=_record_url(model, record.pk),
                        author=who,
                        since=record.updated_at,
                        yours=user.pk in (record.created_by_id, record.submitted_by_id),
                    )
                )
    if status in ("", "suggestions", "stale"):
        states = [SuggestionState.PENDING]
        if status == "stale":
            states.append(SuggestionState.STALE)
        queryset = Suggestion.objects.of_kind(*models).filter(state__in=states).for_display()
        if author is not None:
            queryset = queryset.filter(author=author)
        suggestions = list(queryset.order_by("created_at", "pk")[: QUEUE_LIMIT + 1])
        cut = cut or len(suggestions) > QUEUE_LIMIT
        for suggestion in suggestions[:QUEUE_LIMIT]:
            stale = suggestion.is_stale
            if status == "stale" and not stale:
                continue
            rows.append(
                QueueRow(
                    waiting="suggestion",
                    kind=capfirst(suggestion.record_model._meta.verbose_name),
                    label=suggestion.label,
                    url=reverse("admin:curation_suggestion_change", args=[suggestion.pk]),
                    author=suggestion.author,
                    since=suggestion.created_at,
                    fields=suggestion.changed_fields,
                    stale=stale,
                    yours=suggestion.author_id == user.pk,
                )
            )
    rows.sort(key=lambda row: row.since)
    return rows, cut


def _label_relations(admin_site: admin.AdminSite, model: type[Moderated]) -> list[str]:
    """The related records a model's name is made of (``__str__``), as its admin list
    joins them (``list_select_related``), so that naming a row costs no query."""
    model_admin = admin_site._registry.get(model)
    related = getattr(model_admin, "list_select_related", False)
    return list(related) if isinstance(related, list | tuple) else []


def review_queue_view(request, admin_site):
    models = reviewed_models(request.user)
    if not models:
        raise PermissionDenied
    form = QueueFilterForm(request.GET or None, models=models)
    rows: list[QueueRow] = []
    cut = False
    if not form.is_bound or form.is_valid():
        values = form.cleaned_data if form.is_bound else {}
        kind = values.get("kind") or ""
        chosen = [m for m in models if m._meta.label_lower == kind] if kind else models
        rows, cut = review_queue(
            request.user,
            models=chosen,
            status=values.get("status") or "",
            author=values.get("author"),
            admin_site=admin_site,
        )
    context = {
        **admin_site.each_context(request),
        "title": "Review queue",
        "subtitle": None,
        "form": form,
        "rows": rows,
        "cut": cut,
        "limit": QUEUE_LIMIT,
    }
    request.current_app = admin_site.name
    return TemplateResponse(request, "admin/review_queue.html", context)


# ---------------------------------------------------------------------------
# My work: a curator's own records and suggestions, by what happens to them next
# ---------------------------------------------------------------------------


@dataclass
class WorkRow:
    kind: str
    label: str
    url: str | None
    since: datetime
    note: str = ""
    fields: list[str] = field(default_factory=list)


def my_work(user, *, admin_site: admin.AdminSite = admin.site) -> tuple[dict[str, list], bool]:
    """``user``'s drafts, what of theirs waits for review, what was rejected (with the
    editor's note) and their suggestions still open or rejected, newest first; and
    whether a kind had more than ``QUEUE_LIMIT`` rows. One query per curated model the
    user edits and one for suggestions."""
    groups: dict[str, list] = {"drafts": [], "waiting": [], "rejected": [], "suggestions": []}
    cut = False
    models = [m for m in moderated_models() if record_can_edit(record=m, user=user)]
    for model in models:
        records = list(
            model._default_manager.filter(
                Q(created_by=user) | Q(submitted_by=user),
                status__in=[Status.DRAFT, Status.SUBMITTED, Status.REJECTED],
            )
            .select_related(*_label_relations(admin_site, model))
            .order_by("-updated_at", "-pk")[: QUEUE_LIMIT + 1]
        )
        cut = cut or len(records) > QUEUE_LIMIT
        for record in records[:QUEUE_LIMIT]:
            group = {
                Status.DRAFT: "drafts",
                Status.SUBMITTED: "waiting",
                Status.REJECTED: "rejected",
            }[record.status]
            groups[group].append(
                WorkRow(
                    kind=capfirst(model._meta.verbose_name),
                    label=str(record),
                    url=_record_url(model, record.pk),
                    since=record.updated_at,
                    note=record.review_note if record.status == Status.REJECTED else "",
                )
            )
    suggestions = list(
        Suggestion.objects.filter(
            author=user,
            state__in=[SuggestionState.PENDING, SuggestionState.REJECTED, SuggestionState.STALE],
        )
        .for_display()
        .order_by("-created_at", "-pk")[: QUEUE_LIMIT + 1]
    )
    cut = cut or len(suggestions) > QUEUE_LIMIT
    for suggestion in suggestions[:QUEUE_LIMIT]:
        groups["suggestions"].append(
            WorkRow(
                kind=f"{capfirst(suggestion.record_model._meta.verbose_name)} · "
                f"{suggestion.get_state_display().lower()}",
                label=suggestion.label,
                url=reverse("admin:curation_suggestion_change", args=[suggestion.pk]),
                since=suggestion.created_at,
                note=suggestion.review_note,
                fields=suggestion.changed_fields,
            )
        )
    for rows in groups.values():
        rows.sort(key=lambda row: row.since, reverse=True)
    return groups, cut


def my_work_view(request, admin_site):
    groups, cut = my_work(request.user, admin_site=admin_site)
    context = {
        **admin_site.each_context(request),
        "title": "My work",
        "subtitle": None,
        "sections": [
            (key, heading, help_text, groups[key])
            for key, heading, help_text in (
                ("drafts", "Drafts", "Not submitted yet: finish them and submit them."),
                ("waiting", "Waiting for review", "An editor publishes or rejects them."),
                ("rejected", "Rejected", "Sent back with the editor's note: fix and resubmit."),
                ("suggestions", "My suggestions", "Changes you suggested to published records."),
            )
        ],
        "cut": cut,
        "limit": QUEUE_LIMIT,
    }
    request.current_app = admin_site.name
    return TemplateResponse(request, "admin/my_work.html", context)
