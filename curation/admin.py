"""The admin's base for every curated model: review actions, conflict check, history."""

import datetime
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, OuterRef, Subquery
from django.forms import Textarea
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from curation.bundles import SUBMITTABLE, bundle_claims, bundle_publish, bundle_submit, claim_key
from curation.models import (
    Contribution,
    ContributionKind,
    Moderated,
    Status,
    content_of,
    excerpt,
    version_token,
)
from curation.preview import preview_url, view_on_site_url
from curation.services import (
    EDITABLE_STATUSES,
    MODERATION_FIELDS,
    NOTE_REQUIRED,
    TRANSITIONS,
    ReviewError,
    VersionConflict,
    record_can_delete,
    record_can_edit,
    record_can_review,
    record_create,
    record_edit,
    record_edit_check,
    record_restore,
    record_transitions_allowed,
    records_written_by,
    review_note_check,
)


class PlainDecimalField(forms.DecimalField):
    """A decimal shown as the curator typed it: 21.3, not the column's 21.3000."""

    def prepare_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            return format(value.normalize(), "f")
        return super().prepare_value(value)


SHORT_TEXT = {
    models.TextField: {"widget": Textarea(attrs={"rows": 3, "cols": 60})},
    models.URLField: {"assume_scheme": "https"},
    models.DecimalField: {"form_class": PlainDecimalField},
}

# The folded box for a draft's optional note (ModeratedAdmin.get_fieldsets).
DRAFT_NOTE = "Note for the history (optional)"

# Status and review note change only through the review actions (curation/services.py),
# for editors as for curators: nobody sets "published" by editing a field.
REVIEW_FIELDS = ("status", "review_note")


def content_fields(form: forms.ModelForm) -> dict[str, Any]:
    """The record's content in a validated form: every model field the form edits,
    moderation fields never (status changes only through the review actions)."""
    names = {f.name for f in form._meta.model._meta.get_fields()}
    return {
        name: value
        for name, value in form.cleaned_data.items()
        if name in names and name not in MODERATION_FIELDS and name in form.fields
    }


class ModeratedForm(forms.ModelForm):
    """A curated record's form. It decides nothing: on validation it asks the edit
    service whether this user may make this change (``record_edit_check``), and the
    admin saves through ``record_create`` / ``record_edit`` (curation/services.py), the
    same functions the API calls.

    The form carries the record's version (see ``Moderated.version``) as it was when the
    page was rendered; the service compares it under a row lock, so a stale form is
    turned back with a message and nothing is written."""

    loaded_version = forms.CharField(required=False, widget=forms.HiddenInput)
    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="For a published record your change is kept as a suggestion until another "
        "editor accepts it: say why it is needed.",
    )

    conflict_message = (
        "Someone else saved this %(what)s after you opened it%(who)s. Nothing was saved, "
        "so their changes are not lost. Open the record again (its history shows what "
        "changed), then redo your edits."
    )

    # Set per request by ModeratedAdmin.get_form / ModeratedInline.get_formset.
    editing_user = None
    # A review button pressed on the page with unsaved changes: (its label, what changed).
    refused_transition: tuple[str, list[str]] | None = None
    # Many-to-many links of the version shown on a history (revert) page.
    history_m2m_initial: dict[str, list[int]] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.restoring = False
        reason = self.fields.get("change_reason")
        if reason is not None and self.instance.status != Status.PUBLISHED:
            # A draft's change is applied at once: its note is only for the history.
            reason.label = "Why you changed it"
            reason.help_text = "Optional. Kept with this change in the record's history."
        for field in self.fields.values():
            # A browser cuts pasted text at ``maxlength`` without a word, and a cut title
            # or identifier is saved as if it were whole; the server's own length check
            # refuses it instead, with a message that says the limit.
            field.widget.attrs.pop("maxlength", None)
        if self.instance.pk is not None and not self.is_bound:
            # Read from the database, not from the instance: on a history (revert) page
            # the instance is an old version, but the conflict is with the current one.
            current = (
                type(self.instance)
                ._default_manager.filter(pk=self.instance.pk)
                .values_list("updated_at", flat=True)
                .first()
            )
            self.initial["loaded_version"] = version_token(current)
            for name, pks in (self.history_m2m_initial or {}).items():
                if name in self.fields:
                    self.initial[name] = pks

    def _post_clean(self):
        super()._post_clean()  # the model's own validation: unique fields and constraints
        self._link_taken_values()

    def _link_taken_values(self) -> None:
        """A value that must be unique and is taken (a DOI, a PMID, a key, a slug …):
        its error, at its field, links to the record that has it, so the curator opens
        that record instead of adding the same thing twice."""
        for name, errors in self._errors.items():
            if name not in self.fields:
                continue
            for i, error in enumerate(errors.data):
                if getattr(error, "code", None) != "unique":
                    continue
                holder = self._holder_of(name)
                if holder is None:
                    continue
                opts = holder._meta
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[holder.pk])
                # Every part is escaped; the message is safe HTML only for its link.
                errors.data[i] = ValidationError(
                    format_html(
                        '{} <a href="{}" class="taken-link">Open the {} that has it: “{}”</a>',
                        " ".join(error.messages),
                        url,
                        opts.verbose_name,
                        holder,
                    ),
                    code="unique",
                )

    def _holder_of(self, name: str):
        model = type(self.instance)
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # a form-only field: nothing to look up
            return None
        value = getattr(self.instance, field.attname)
        others = model._default_manager.filter(**{field.attname: value})
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        return others.first()

    def clean(self):
        cleaned = super().clean()
        if self.refused_transition:
            button, changed = self.refused_transition
            raise forms.ValidationError(
                "Save your changes first: you pressed “%(button)s” on a page with changes "
                "that are not saved (%(changed)s). Nothing was done and nothing was saved; "
                "your changes are still in the form. Press Save, then “%(button)s”.",
                code="unsaved",
                params={"button": button, "changed": ", ".join(changed)},
            )
        if self.instance.pk is None or self.editing_user is None or self.errors:
            return cleaned
        model = type(self.instance)
        loaded = self.data.get(self.add_prefix("loaded_version"), "")
        exists = model._default_manager.filter(pk=self.instance.pk).exists()
        if not exists and loaded == "":
            # Reverting a deleted record to an old version from its history: recovery.
            self.restoring = True
            return cleaned
        if not exists:
            raise forms.ValidationError(
                "This record was deleted by someone else after you opened it. Nothing was "
                "saved. Its history can restore it.",
                code="conflict",
            )
        try:
            record_edit_check(
                record=model(pk=self.instance.pk),
                fields=content_fields(self),
                user=self.editing_user,
                expected_version=loaded,
            )
        except VersionConflict:
            raise forms.ValidationError(self._conflict(), code="conflict") from None
        except ReviewError as exc:
            raise forms.ValidationError(exc.message, code="not_editable") from None
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages, code="invalid") from None
        return cleaned

    def _conflict(self) -> str:
        current = type(self.instance)._default_manager.get(pk=self.instance.pk)
        last = current.history.select_related("history_user").first()
        who = (
            f" ({last.history_user} at {last.history_date:%Y-%m-%d %H:%M} UTC)"
            if (last is not None and last.history_user is not None)
            else ""
        )
        return self.conflict_message % {"what": self.instance._meta.verbose_name, "who": who}


class ModeratedInlineFormSet(forms.BaseInlineFormSet):
    """Inline rows are curated records too: removing one is allowed only where the
    service allows deleting that record."""

    editing_user = None

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            record = form.instance
            if record.pk is not None and not record_can_delete(
                record=record, user=self.editing_user
            ):
                raise forms.ValidationError(
                    f"“{record}” is {record.get_status_display().lower()} and cannot be "
                    "deleted here. Published claims are retracted, not deleted; curators "
                    "delete only their own drafts that were never submitted.",
                    code="not_deletable",
                )


class ReviewNoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        help_text="Say why: the curator reads it, and it is kept in the record's history.",
    )


TRANSITION_LABELS = {
    "submit": "Submit for review",
    "reopen": "Reopen as a draft",
    "publish": "Publish",
    "reject": "Reject, with the note",
    "retract": "Retract, with the note",
}
TRANSITION_DONE = {
    "submit": "Submitted for review",
    "reopen": "Reopened as a draft",
    "publish": "Published",
    "reject": "Rejected",
    "retract": "Retracted",
}


def claim_details(claim: Moderated, *, parent: Moderated) -> list[tuple[str, str]]:
    """What an editor reads before publishing a claim: each of its content fields that
    has a value (statement and quote in full), by its label; not the moderation fields
    nor the link to the record under review, which the page names already."""
    details = []
    for f in claim._meta.concrete_fields:
        # Not what no one types either (a claim's copy of its source's year, its sort key).
        if f.name in MODERATION_FIELDS or not f.editable:
            continue
        if f.is_relation and f.related_model is type(parent):
            continue
        value = getattr(claim, f.name)
        if value in (None, "", [], ()):
            continue
        if f.choices:
            value = getattr(claim, f"get_{f.name}_display")()
        details.append((str(f.verbose_name).capitalize(), str(value)))
    details.append(("Written by", str(claim.created_by) if claim.created_by_id else "—"))
    return details


class BundleReviewForm(forms.Form):
    """An editor's choice among a record's submitted claims: a checkbox each."""

    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional; kept in the history of the record and of each claim published.",
    )
    reject_note = forms.CharField(
        label="Why the others are rejected",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required when a claim is left unchecked: its curator reads it.",
    )

    def __init__(self, *args, claims, **kwargs):
        super().__init__(*args, **kwargs)
        self.claims = claims
        for claim in claims:
            self.fields[self.field_name(claim)] = forms.BooleanField(
                required=False, initial=True, label=str(claim)
            )

    @staticmethod
    def field_name(claim) -> str:
        return "claim_" + claim_key(claim).replace(".", "_").replace(":", "_")

    def chosen(self) -> list:
        return [c for c in self.claims if self.cleaned_data.get(self.field_name(c))]

    def clean(self):
        cleaned = super().clean()
        if len(self.chosen()) < len(self.claims):
            try:
                review_note_check(note=cleaned.get("reject_note", ""), action="reject")
            except ReviewError as exc:
                self.add_error("reject_note", exc.message)
        return cleaned


# ---------------------------------------------------------------------------
# List columns: short labels, the full text a pointer away (title attribute)
# ---------------------------------------------------------------------------

# A status as a list column names it: one word each.
STATUS_SHORT = {Status.SUBMITTED: "Submitted"}


def short_label(label: str) -> str:
    """A choice's label up to its explanation: "B — controlled: one RCT …" is "B",
    "Routine (most hospital labs)" is "Routine"."""
    for mark in (" — ", " (", "; ", ": "):
        label = label.split(mark, 1)[0]
    return label


def with_title(shown: str, full: str) -> str:
    """``shown`` (text, or HTML made safe) in a list cell, with ``full`` as its tooltip
    when they differ."""
    if shown == full:
        return shown
    return format_html('<span title="{}">{}</span>', full, shown)


# Where a citation key may wrap: after an underscore, and before a year ("brenu|2011_nk").
_KEY_BREAKS = re.compile(r"(?<=_)|(?<=[^\d_])(?=\d)")


def breakable(key: str) -> str:
    """A citation key that may wrap between its words (``<wbr>``), never inside one:
    "strayer" / "1994_ampligen_" / "rct". Copying it gives the key unchanged."""
    parts = _KEY_BREAKS.split(key)
    joined = format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in parts if part))
    return format_html('<span class="citation-key">{}</span>', joined)


def choice_cell(obj, name: str) -> str:
    """A choice field's short label, its full label as the tooltip."""
    full = str(getattr(obj, f"get_{name}_display")())
    return with_title(short_label(full), full) if full else "—"


def excerpt_cell(text: str, chars: int = 80) -> str:
    """The start of a long text, for the list only: the full text is the tooltip, and
    the record's page shows it all."""
    return with_title(excerpt(text, chars), text) if text else "—"


def user_short(username: str) -> str:
    # Accounts are email addresses (create_curator): the name before the @ fits a column.
    return username.split("@", 1)[0]


def last_writer(model: type[models.Model]) -> Subquery:
    """The username of whoever last wrote a record's content (created, edited or
    restored it: curation.Contribution), for a list column in the list's own query.
    A suggestion is not counted: it changes nothing until an editor accepts it."""
    contributions = (
        Contribution.objects.filter(content_of(model), object_id=OuterRef("pk"))
        .exclude(kind=ContributionKind.SUGGESTED)
        .order_by("-at", "-pk")
    )
    return Subquery(contributions.values("user__username")[:1])


class ModeratedAdmin(SimpleHistoryAdmin):
    """Shared by every curated model: who made it, how its status changes (only through
    the review actions), and no lost updates."""

    form = ModeratedForm
    # The admin index's line for this model, in one of its task groups
    # (curation/admin_site.py): "Findings: is this abnormality seen in ME/CFS?".
    index_group: str | None = None
    index_order = 100
    index_question = ""
    change_list_template = "admin/moderated_change_list.html"
    change_form_template = "admin/moderated_change_form.html"
    # A record claims rest on (a source) opts in to being submitted and reviewed with
    # its claims from its change form.
    review_with_claims = False
    formfield_overrides = SHORT_TEXT
    # One COUNT(*) per changelist, not two: the unfiltered total is not worth a
    # second scan of a table that grows to literature scale.
    show_full_result_count = False
    moderation_fields = ("created_by", "submitted_by", "reviewed_by", "reviewed_at")
    actions = [
        "submit_selected",
        "reopen_selected",
        "publish_selected",
        "reject_selected",
        "retract_selected",
    ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *REVIEW_FIELDS, *self.moderation_fields]

    def view_on_site(self, obj):
        # A published record's public page; anything else its preview (curation/preview.py).
        return view_on_site_url(obj)

    # --- list columns every curated list shows ----------------------------------------

    def get_list_display(self, request):
        """Every curated list ends with who wrote the row and its status (a short
        label), whatever its own columns are."""
        columns = [
            "status_shown" if c == "status" else c for c in super().get_list_display(request)
        ]
        return [*columns, *(c for c in ("author", "status_shown") if c not in columns)]

    def get_queryset(self, request):
        # Who wrote each row, in the list's own query (no query per row).
        return (
            super()
            .get_queryset(request)
            .annotate(_written_by=last_writer(self.model), _created_by=F("created_by__username"))
        )

    @admin.display(description="author")
    def author(self, obj) -> str:
        """Who last wrote it; the tooltip says who created it too."""
        writer = getattr(obj, "_written_by", None)
        creator = getattr(obj, "_created_by", None)
        name = writer or creator
        if not name:
            return with_title("—", "No curator recorded (loaded with the seed or an import).")
        full = f"Created by {creator}" if creator else "Creator not recorded"
        if writer and writer != creator:
            full += f"; last written by {writer}"
        return with_title(user_short(name), f"{full}.")

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj) -> str:
        label = obj.get_status_display()
        return with_title(STATUS_SHORT.get(obj.status, label), label)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        names = helpers.flatten_fieldsets(fieldsets)
        extra = []
        if "change_reason" not in names:
            # Where it applies: a change to a published record waits for an editor, who
            # reads why; a draft's note is optional history, folded away under its name;
            # a new record, or one under review or retracted, has none.
            if obj is not None and obj.status == Status.PUBLISHED:
                extra.append(("Your change", {"fields": ["change_reason"]}))
            elif obj is not None and obj.status in EDITABLE_STATUSES:
                extra.append((DRAFT_NOTE, {"fields": ["change_reason"], "classes": ["collapse"]}))
        if "loaded_version" not in names:
            extra.append((None, {"fields": ["loaded_version"], "classes": ["hidden"]}))
        return [*fieldsets, *extra]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.editing_user = request.user  # a class made for this request
        form.history_m2m_initial = getattr(request, "_history_m2m_initial", None)
        form.refused_transition = getattr(request, "_refused_transition", None)
        return form

    def has_review_permission(self, request) -> bool:
        # Asked by Django for the actions marked permissions=["review"].
        return record_can_review(record=self.model, user=request.user)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request, obj) or self.has_change_permission(
                request
            )
        return record_can_delete(record=obj, user=request.user)

    def get_actions(self, request):
        # Deleting in bulk would skip the per-record rule (record_can_delete); records
        # are deleted one at a time from their page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- saving: the same services as the API ------------------------------------------

    def _note(self, request, message: str) -> None:
        request._curation_notes = [*getattr(request, "_curation_notes", []), message]

    def save_form(self, request, form, change):
        # Nothing is saved by the form itself: save_model hands its content to the service.
        return form.instance

    def save_model(self, request, obj, form, change):
        fields = content_fields(form)
        user = request.user
        model = type(obj)
        if not change:
            # A form may give a reason for its history (e.g. why a look-alike of an
            # existing record is a different one).
            saved = record_create(
                model=model,
                fields=fields,
                user=user,
                reason=form.cleaned_data.get("change_reason", ""),
            )
        elif getattr(form, "restoring", False):
            saved = record_restore(model=model, pk=obj.pk, fields=fields, user=user)
            self._note(request, f"“{saved}” was restored from history as a draft.")
        else:
            reverting = getattr(request, "_reverting_to", None)
            result = record_edit(
                record=model(pk=obj.pk),
                fields=fields,
                user=user,
                expected_version=form.cleaned_data.get("loaded_version", ""),
                reason=form.cleaned_data.get("change_reason", ""),
                verb=revert_verb(reverting) if reverting is not None else "Edited",
            )
            saved = result.record
            if result.suggestion is not None:
                self._note(request, _suggested_message(result))
            if reverting is not None:
                # What the admin's log says of it (LogEntry), instead of a plain "Changed".
                request._revert_logged = (
                    f"{revert_verb(reverting)}, kept as a suggestion for review."
                    if result.suggestion is not None
                    else f"{revert_verb(reverting)}."
                )
        # The admin goes on with ``obj`` (its message, log entry and redirect): make it the
        # record as saved, which for a suggestion is the published record, unchanged.
        obj.__dict__.update(saved.__dict__)
        # The service set the many-to-many links; the history view calls this after us.
        form.save_m2m = lambda: None

    def save_related(self, request, form, formsets, change):
        # Not form.save_m2m(): the service set the record's links.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        """Each inline row through the same services: new rows are drafts, changes to a
        published row are suggestions, removals only where the service allows."""
        user = request.user
        parent_name = formset.fk.name
        # What the admin's change message and log read (BaseModelFormSet.save sets them).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.initial_forms + formset.extra_forms:
            if not hasattr(inline_form, "cleaned_data") or not inline_form.has_changed():
                continue
            if inline_form in formset.deleted_forms:
                continue
            record = inline_form.instance
            fields = content_fields(inline_form)
            fields[parent_name] = formset.instance
            if record.pk is None:
                formset.new_objects.append(
                    record_create(model=type(record), fields=fields, user=user)
                )
                continue
            result = record_edit(
                record=type(record)(pk=record.pk),
                fields=fields,
                user=user,
                expected_version=inline_form.cleaned_data.get("loaded_version", ""),
            )
            if result.suggestion is not None:
                self._note(request, _suggested_message(result))
            elif result.changed:
                formset.changed_objects.append((result.record, result.changed))
        for inline_form in formset.deleted_forms:
            record = inline_form.instance
            if record.pk is not None and record_can_delete(record=record, user=user):
                record._history_user = user
                record.delete()
                formset.deleted_objects.append(record)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        notes = getattr(request, "_curation_notes", None)
        if notes and level == messages.SUCCESS:
            # Django's "was changed successfully" would hide that readers see no change yet.
            for note in notes:
                super().message_user(request, note, messages.WARNING, *args, **kwargs)
            request._curation_notes = []
            return
        super().message_user(request, message, level, *args, **kwargs)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        deleted = path(
            "deleted/",
            self.admin_site.admin_view(self.deleted_view),
            name="{}_{}_deleted".format(*info),
        )
        bundle = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(view),
                name="{}_{}_{}".format(*info, name.replace("-", "_")),
            )
            for name, view in (
                ("submit-with-claims", self.submit_with_claims_view),
                ("review-with-claims", self.review_with_claims_view),
            )
        ]
        transition = path(
            "<path:object_id>/transition/<str:name>/",
            self.admin_site.admin_view(self.transition_view),
            name="{}_{}_transition".format(*info),
        )
        return [deleted, *bundle, transition, *super().get_urls()]

    # --- the review buttons on a record's page: the same services as the actions -------

    def _transition_buttons(self, request, obj) -> list[dict[str, str]]:
        info = self.opts.app_label, self.opts.model_name
        return [
            {
                "name": name,
                "label": TRANSITION_LABELS[name],
                "url": reverse("admin:{}_{}_transition".format(*info), args=[obj.pk, name]),
            }
            for name in record_transitions_allowed(record=obj, user=request.user)
        ]

    def transition_view(self, request, object_id, name):
        """One transition of one record, from the buttons on its page (POST only).

        The buttons sit in the record's form and post all of it: a page with changes
        not saved yet is refused (``_refuse_unsaved``), so that nobody submits or
        publishes a version other than the one on their screen. The version the page
        was loaded at is checked too: a record saved by someone else since is refused."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in TRANSITIONS:
            raise Http404
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        refused = self._refuse_unsaved(request, obj, TRANSITION_LABELS[name])
        if refused is not None:
            return refused
        try:
            TRANSITIONS[name](
                record=obj,
                user=request.user,
                note=request.POST.get("transition_note", ""),
                expected_version=request.POST.get("loaded_version") or None,
            )
        except ReviewError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"{TRANSITION_DONE[name]}: {obj}.", messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(obj))

    def _refuse_unsaved(self, request, obj, button: str):
        """The record's page again, with the changes as typed and the error "Save your
        changes first", when the button was pressed on a page with unsaved changes;
        None when there are none (or only the button's own fields were posted)."""
        loaded = request.POST.get("loaded_version")
        if loaded is None:
            return None  # not the record's form: a button of its own
        if loaded != obj.version:
            # Saved by someone else since the page was opened: the page differs from the
            # record for that reason; the service refuses it as such (VersionConflict).
            return None
        changed = self._unsaved_changes(request, obj)
        if not changed:
            return None
        request._refused_transition = (button, changed)
        # The page at its own address: its Save button posts there, not to the button's.
        return self.change_view(request, str(obj.pk), form_url=self._change_url(obj))

    def _unsaved_changes(self, request, obj) -> list[str]:
        """What the posted page changes, by field label (and inline list name)."""
        form = self.get_form(request, obj, change=True)(request.POST, request.FILES, instance=obj)
        changed = [
            str(form.fields[name].label or name)
            for name in form.changed_data
            if name not in NOT_CONTENT_FIELDS and _really_changed(form, name)
        ]
        formsets, _ = self._create_formsets(request, obj, change=True)
        changed += [
            str(formset.model._meta.verbose_name_plural)
            for formset in formsets
            if _formset_really_changed(formset)
        ]
        return changed

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError:
            # The service refused what the form found valid a moment before: someone
            # saved the same DOI, key or slug in between, and the database's constraint
            # caught it. Nothing was written (the view is atomic); validating the same
            # POST again shows the reason at its field, as a form error, not a crash.
            if request.method != "POST" or getattr(request, "_validated_again", False):
                raise
            request._validated_again = True
            request._curation_notes = []
            return super().changeform_view(request, object_id, form_url, extra_context)

    # --- a record with its claims (curation/bundles.py) ---------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            context["transitions"] = self._transition_buttons(request, obj)
            context["transition_note_needed"] = any(
                b["name"] in NOTE_REQUIRED for b in context["transitions"]
            )
            if obj.status != Status.PUBLISHED:
                context["preview_url"] = preview_url(obj)
            if self.review_with_claims:
                context["bundle"] = self._bundle(request, obj)
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _bundle(self, request, obj) -> dict[str, Any]:
        """What the change form offers for the record with its claims; the services
        decide again when a button is pressed. One query per kind of claim."""
        claims = bundle_claims(record=obj, statuses=(*SUBMITTABLE, Status.SUBMITTED))
        # Only the curator's own drafts go with the record (bundle_submit).
        drafts = len(
            records_written_by(
                records=[c for c in claims if c.status in SUBMITTABLE], user=request.user
            )
        )
        waiting = sum(claim.status == Status.SUBMITTED for claim in claims)
        info = self.opts.app_label, self.opts.model_name
        return {
            "drafts": drafts,
            "waiting": waiting,
            "can_submit": record_can_edit(record=obj, user=request.user)
            and (obj.status in SUBMITTABLE or drafts > 0),
            "can_review": record_can_review(record=obj, user=request.user)
            and obj.status in (Status.SUBMITTED, Status.PUBLISHED)
            and waiting > 0,
            "submit_url": reverse("admin:{}_{}_submit_with_claims".format(*info), args=[obj.pk]),
            "review_url": reverse("admin:{}_{}_review_with_claims".format(*info), args=[obj.pk]),
        }

    def _bundle_record(self, request, object_id):
        obj = self.get_object(request, object_id) if self.review_with_claims else None
        if obj is None:
            raise Http404
        return obj

    def _change_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def submit_with_claims_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._bundle_record(request, object_id)
        refused = self._refuse_unsaved(request, obj, "Submit with its claims")
        if refused is not None:
            return refused
        try:
            result = bundle_submit(record=obj, user=request.user)
        except ReviewError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            count = len(result.submitted)
            self.message_user(
                request,
                f"Submitted “{obj}” for review with {count} claim{'s' if count != 1 else ''} "
                "of yours.",
                messages.SUCCESS,
            )
            if result.left:
                self.message_user(
                    request,
                    f"{len(result.left)} draft claim(s) written by other curators were left "
                    "as drafts, for them to submit: "
                    + "; ".join(str(claim) for claim in result.left),
                    messages.WARNING,
                )
        return HttpResponseRedirect(self._change_url(obj))

    def review_with_claims_view(self, request, object_id):
        """An editor reviews the record and its submitted claims on one page: the
        checked claims are published with it, the others rejected with one note."""
        obj = self._bundle_record(request, object_id)
        if not record_can_review(record=obj, user=request.user):
            raise PermissionDenied
        waiting = bundle_claims(record=obj, statuses=(Status.SUBMITTED,))
        form = BundleReviewForm(request.POST or None, claims=waiting)
        if request.method == "POST" and form.is_valid():
            try:
                review = bundle_publish(
                    record=obj,
                    user=request.user,
                    claims=form.chosen(),
                    note=form.cleaned_data["note"],
                    reject_note=form.cleaned_data["reject_note"],
                )
            except ReviewError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    f"Published “{review.record}” with {len(review.published)} of its "
                    f"claims; rejected {len(review.rejected)}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(obj))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review “{obj}” with its claims",
            "opts": self.opts,
            "original": obj,
            "form": form,
            "rows": [
                {
                    "claim": claim,
                    "field": form[form.field_name(claim)],
                    "kind": claim._meta.verbose_name,
                    "details": claim_details(claim, parent=obj),
                    "change_url": reverse(
                        f"admin:{claim._meta.app_label}_{claim._meta.model_name}_change",
                        args=[claim.pk],
                    ),
                    "preview_url": preview_url(claim),
                }
                for claim in waiting
            ],
        }
        return TemplateResponse(request, "admin/review_with_claims.html", context)

    def deleted_view(self, request):
        """Records deleted from this model, each linking to its last version in history,
        where an editor can restore it (the revert form re-creates it)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        history = self.model.history
        existing = self.model._default_manager.values("pk")
        deletions = (
            history.filter(history_type="-")
            .exclude(id__in=existing)
            .select_related("history_user")
            .order_by("-history_date")[:200]
        )
        rows = []
        for deletion in deletions:
            # The deletion row holds the values the record had when it was deleted.
            rows.append({"record": deletion, "label": str(deletion.instance)})
        context = {
            **self.admin_site.each_context(request),
            "title": f"Deleted {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/moderated_deleted.html", context)

    @transaction.atomic
    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Atomic like the change view, so the service's check can lock the row. The old
        # version's many-to-many links are offered too (they are versioned with it).
        historical = self.model.history.filter(pk=version_id).first()
        if historical is not None:
            request._history_m2m_initial = _historical_m2m(historical)
            # Saving this form is a revert: the history and the log say so, with the date.
            request._reverting_to = historical
        return super().history_form_view(request, object_id, version_id, extra_context)

    def construct_change_message(self, request, form, formsets, add=False):
        logged = getattr(request, "_revert_logged", None)
        if logged:
            return logged  # a plain text LogEntry message is shown as it is
        return super().construct_change_message(request, form, formsets, add)

    # --- review actions: the same service, rules and messages as the API ---------------

    def _apply(self, request, queryset, action: str, note: str = "") -> None:
        service = TRANSITIONS[action]
        done = []
        for record in queryset:
            kwargs = {"record": record, "user": request.user}
            if action != "submit" or note:
                kwargs["note"] = note
            try:
                service(**kwargs)
            except ReviewError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                done.append(str(record))
        if done:
            past = {
                "submit": "Submitted for review",
                "reopen": "Reopened as drafts",
                "publish": "Published",
                "reject": "Rejected",
                "retract": "Retracted",
            }[action]
            self.message_user(request, f"{past}: {'; '.join(done)}.", messages.SUCCESS)

    def _with_note(self, request, queryset, action: str, *, required: bool):
        """Ask for the note on an intermediate page, then apply the action."""
        form = ReviewNoteForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            note = form.cleaned_data["note"]
            try:
                if required:
                    review_note_check(note=note, action=action)
            except ReviewError as exc:
                form.add_error("note", exc.message)
            else:
                self._apply(request, queryset, action, note)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.capitalize()} {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action": f"{action}_selected",
            "verb": action,
            "note_required": required,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/moderation_note.html", context)

    @admin.action(description="Submit selected for review", permissions=["change"])
    def submit_selected(self, request, queryset):
        self._apply(request, queryset, "submit")

    @admin.action(description="Reopen selected rejected records as drafts", permissions=["change"])
    def reopen_selected(self, request, queryset):
        self._apply(request, queryset, "reopen")

    @admin.action(description="Publish selected (editors)", permissions=["review"])
    def publish_selected(self, request, queryset):
        self._apply(request, queryset, "publish")

    @admin.action(description="Reject selected, with a note (editors)", permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._with_note(request, queryset, "reject", required=True)

    @admin.action(description="Retract selected, with a note (editors)", permissions=["review"])
    def retract_selected(self, request, queryset):
        return self._with_note(request, queryset, "retract", required=True)


# Fields a record's form posts that are not its content: the version the page was
# loaded at (for conflicts) and the note for the history.
NOT_CONTENT_FIELDS = ("loaded_version", "change_reason")


def _really_changed(form, name: str) -> bool:
    """Whether a field Django reports changed differs in more than line endings and
    the spaces around it: a browser sends a text box's lines with CRLF, and the
    record may hold LF."""
    initial, data = form[name].initial, form[name].data
    if isinstance(initial, str) and isinstance(data, str):
        return _plain_text(initial) != _plain_text(data)
    return True


def _formset_really_changed(formset) -> bool:
    """Whether an inline list was changed on the page: a row added, deleted or edited
    in more than line endings (``_really_changed``, row by row)."""
    if not formset.is_bound:
        return False
    for form in formset.forms:
        if formset.can_delete and formset._should_delete_form(form):
            return True
        if any(
            _really_changed(form, name)
            for name in form.changed_data
            if name not in NOT_CONTENT_FIELDS
        ):
            return True
    return False


def _plain_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def revert_verb(historical) -> str:
    """How the history names a revert to ``historical`` (a version of the record)."""
    when = historical.history_date.astimezone(datetime.UTC)
    return f"Reverted to the version of {when:%Y-%m-%d %H:%M:%S} UTC"


def _suggested_message(result) -> str:
    fields = ", ".join(result.changed)
    return format_html(
        "“{}” is published, so your change ({}) was kept as a suggestion. Readers see the "
        'published version until another editor accepts it: <a href="{}">open the '
        "suggestion</a>.",
        result.record,
        fields,
        reverse("admin:curation_suggestion_change", args=[result.suggestion.pk]),
    )


def _historical_m2m(historical) -> dict[str, list[int]]:
    """The many-to-many links a historical version had (simple-history ``m2m_fields``)."""
    found = {}
    if historical.history_type == "-" and historical.prev_record is not None:
        # The links are deleted before the record, so the deletion's own row holds none:
        # the version before it has the links the record had.
        historical = historical.prev_record
    for field in getattr(historical, "_history_m2m_fields", []):
        through = getattr(historical, field.name)
        target = field.m2m_reverse_field_name()
        found[field.name] = sorted(through.values_list(target, flat=True))
    return found


class ModeratedInline:
    """Inline claims a curator adds from a source, an abnormality or a therapy: the same
    form and services as the record's own page."""

    extra = 0
    show_change_link = True
    formfield_overrides = SHORT_TEXT
    form = ModeratedForm
    formset = ModeratedInlineFormSet

    def get_readonly_fields(self, request, obj=None):
        # New inline claims start as drafts; their status changes through the actions.
        return [*super().get_readonly_fields(request, obj), "status"]

    def view_on_site(self, obj):
        return view_on_site_url(obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.editing_user = request.user
        formset.form.editing_user = request.user
        if isinstance(self, admin.TabularInline):
            # A table's rows show their labels once, in its head: each field is named by
            # its column's heading (no <label> in Django's rows, so a screen reader named
            # nothing; static/curation/admin-a11y.js names the autocomplete boxes alike).
            for field in formset.form.base_fields.values():
                field.widget.attrs.setdefault("aria-label", capfirst(field.label))
        return formset

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return [*fields, "loaded_version"] if "loaded_version" not in fields else fields


# The suggestions' admin and the review queue (curation/admin_review.py) register on
# import, as this module's admins do.
from curation import admin_review  # noqa: E402, F401
