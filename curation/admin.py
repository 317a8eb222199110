"""The admin's base for every curated model: review actions, conflict check, history."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.forms import Textarea
from django.template.response import TemplateResponse
from django.urls import path
from simple_history.admin import SimpleHistoryAdmin

from curation.models import Status, version_token
from curation.services import (
    EDITABLE_STATUSES,
    TRANSITIONS,
    ReviewError,
    review_note_check,
)

SHORT_TEXT = {
    models.TextField: {"widget": Textarea(attrs={"rows": 3, "cols": 60})},
    models.URLField: {"assume_scheme": "https"},
}

# Status and review note change only through the review actions (curation/services.py),
# for editors as for curators: nobody sets "published" by editing a field.
REVIEW_FIELDS = ("status", "review_note")


def can_review_user(user, opts) -> bool:
    return user.has_perm(f"{opts.app_label}.review_{opts.model_name}")


def can_review(request, opts) -> bool:
    return can_review_user(request.user, opts)


class ModeratedForm(forms.ModelForm):
    """Refuses to overwrite a record someone else saved after this form was opened.

    The form carries the record's version (see ``Moderated.version``) as it was when
    the page was rendered; on save the row is locked and its version compared, so a
    stale form is turned back with a message and nothing is written."""

    loaded_version = forms.CharField(required=False, widget=forms.HiddenInput)

    conflict_message = (
        "Someone else saved this %(what)s after you opened it%(who)s. Nothing was saved, "
        "so their changes are not lost. Open the record again (its history shows what "
        "changed), then redo your edits."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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

    # Set per request by ModeratedAdmin.get_form.
    editing_user = None

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        self._check_editable()
        manager = type(self.instance)._default_manager
        if transaction.get_connection().in_atomic_block:
            # Held until the admin's transaction ends: nobody saves between check and save.
            manager = manager.select_for_update()
        current = manager.filter(pk=self.instance.pk).first()
        loaded = self.data.get(self.add_prefix("loaded_version"), "")
        if current is None and loaded == "":
            # Reverting a deleted record to an old version from its history: recovery.
            return cleaned
        if current is None:
            raise forms.ValidationError(
                "This record was deleted by someone else after you opened it. Nothing was "
                "saved. Its history can restore it.",
                code="conflict",
            )
        if current.version != loaded:
            last = current.history.select_related("history_user").first()
            who = (
                f" ({last.history_user} at {last.history_date:%Y-%m-%d %H:%M} UTC)"
                if (last is not None and last.history_user is not None)
                else ""
            )
            raise forms.ValidationError(
                self.conflict_message % {"what": self.instance._meta.verbose_name, "who": who},
                code="conflict",
            )
        return cleaned

    def _check_editable(self) -> None:
        """Content under review or public is changed by editors only (the API refuses
        every edit there, 409): a curator's change to a published claim would reach
        readers unreviewed. Adding claims to a published source from its page is fine:
        the source itself is unchanged, and the new claims start as drafts."""
        changed = [name for name in self.changed_data if name != "loaded_version"]
        user = self.editing_user
        if (
            changed
            and user is not None
            and self.instance.status not in EDITABLE_STATUSES
            and not can_review_user(user, self.instance._meta)
        ):
            raise forms.ValidationError(
                "This %(what)s is %(status)s: only draft or rejected records can be "
                "edited by curators. Nothing was saved. Ask an editor to make the change "
                "(or, while it is submitted, to reject it so that you can fix it).",
                params={
                    "what": self.instance._meta.verbose_name,
                    "status": self.instance.get_status_display().lower(),
                },
                code="not_editable",
            )


class ReviewNoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        help_text="Say why: the curator reads it, and it is kept in the record's history.",
    )


class ModeratedAdmin(SimpleHistoryAdmin):
    """Shared by every curated model: who made it, how its status changes (only through
    the review actions), and no lost updates."""

    form = ModeratedForm
    change_list_template = "admin/moderated_change_list.html"
    formfield_overrides = SHORT_TEXT
    # One COUNT(*) per changelist, not two: the unfiltered total is not worth a
    # second scan of a table that grows to literature scale.
    show_full_result_count = False
    moderation_fields = ("created_by", "submitted_by", "reviewed_by", "reviewed_at")
    actions = ["submit_selected", "publish_selected", "reject_selected", "retract_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *REVIEW_FIELDS, *self.moderation_fields]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        names = helpers.flatten_fieldsets(fieldsets)
        if "loaded_version" in names:
            return fieldsets
        return [*fieldsets, (None, {"fields": ["loaded_version"], "classes": ["hidden"]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.editing_user = request.user  # a class made for this request
        return form

    def has_review_permission(self, request) -> bool:
        return can_review(request, self.opts)

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        if change:
            self._keep_review_state(obj)
        super().save_model(request, obj, form, change)

    def _keep_review_state(self, obj) -> None:
        """An edit never changes the review state. A revert from history would otherwise
        bring back the old version's status (publishing it unreviewed); a deleted record
        restored from history comes back as a draft, to be reviewed again."""
        current = type(obj)._default_manager.filter(pk=obj.pk).first()
        if current is None:
            obj.status = Status.DRAFT
            obj.submitted_by = obj.reviewed_by = obj.reviewed_at = None
            obj.review_note = ""
            obj._change_reason = "Restored from history as a draft"
            return
        for name in (*REVIEW_FIELDS, *self.moderation_fields):
            field = obj._meta.get_field(name)
            setattr(obj, field.attname, getattr(current, field.attname))

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if instance.pk is None and getattr(instance, "created_by_id", 0) is None:
                instance.created_by = request.user
            instance._history_user = request.user
            instance.save()
        for obj in formset.deleted_objects:
            obj._history_user = request.user
            obj.delete()
        formset.save_m2m()

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        deleted = path(
            "deleted/",
            self.admin_site.admin_view(self.deleted_view),
            name="{}_{}_deleted".format(*info),
        )
        return [deleted, *super().get_urls()]

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
        # Atomic like the change view, so the conflict check can lock the row.
        return super().history_form_view(request, object_id, version_id, extra_context)

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

    @admin.action(description="Publish selected (editors)", permissions=["review"])
    def publish_selected(self, request, queryset):
        self._apply(request, queryset, "publish")

    @admin.action(description="Reject selected, with a note (editors)", permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._with_note(request, queryset, "reject", required=True)

    @admin.action(description="Retract selected, with a note (editors)", permissions=["review"])
    def retract_selected(self, request, queryset):
        return self._with_note(request, queryset, "retract", required=True)


class ModeratedInline:
    """Inline claims a curator adds from a source, an abnormality or a therapy."""

    extra = 0
    show_change_link = True
    formfield_overrides = SHORT_TEXT

    def get_readonly_fields(self, request, obj=None):
        # New inline claims start as drafts; their status changes through the actions.
        return [*super().get_readonly_fields(request, obj), "status"]
