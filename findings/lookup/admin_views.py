"""The source admin's "Look up" button and an editor's review of a publisher's notice.

The lookup works without JavaScript: a small form above the add form posts the
identifier here; the result is kept in the session and the add form is shown again,
filled (not saved), with a message saying what was filled from which service and what
could not be checked. The curator checks every field and saves as usual, through the
same services as any other new source.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from curation.services import ReviewError
from findings.lookup import LookupFailed, source_lookup
from findings.lookup.present import existing_sources, plain_value
from findings.models import HELD_NOTICES, Source, source_held_q
from findings.retractions import source_notice_review

SESSION_KEY = "findings_source_lookup"


def _labels() -> dict[str, str]:
    return {f.name: str(f.verbose_name) for f in Source._meta.get_fields() if f.concrete}


class NoticeFilter(admin.SimpleListFilter):
    title = "publisher's notice"
    parameter_name = "notice"

    def lookups(self, request, model_admin):
        return [
            ("waiting", "Waiting for an editor's review"),
            ("reviewed", "Reviewed"),
            ("correction", "Correction only"),
            ("none", "None"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "waiting":
            return queryset.filter(source_held_q())
        if value == "reviewed":
            return queryset.filter(notice_reviewed_at__isnull=False)
        if value == "correction":
            return queryset.filter(notice_kind="correction")
        if value == "none":
            return queryset.filter(notice_kind="", retracted=False)
        return queryset


class SourceLookupAdminMixin:
    """For ``SourceAdmin``: the lookup on the add form, the notice review on a source's
    page. Kept apart from findings/admin.py so that the lookup lives in one package."""

    change_form_template = "admin/findings/source/change_form.html"

    def get_urls(self):
        return [
            path(
                "lookup/",
                self.admin_site.admin_view(self.lookup_view),
                name="findings_source_lookup",
            ),
            path(
                "<path:object_id>/notice-review/",
                self.admin_site.admin_view(self.notice_review_view),
                name="findings_source_notice_review",
            ),
            *super().get_urls(),
        ]

    # --- lookup -------------------------------------------------------------------------

    def lookup_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        raw = request.POST.get("lookup_identifier", "")
        stash = {"lookup_identifier": raw[:2000], "initial": {}}
        try:
            result = source_lookup(raw)
        except LookupFailed as exc:
            messages.error(request, f"{exc.message} The form is as it was: you can go on by hand.")
        else:
            stash["initial"] = {name: plain_value(value) for name, value in result.fields.items()}
            self._lookup_messages(request, result)
        request.session[SESSION_KEY] = stash
        return HttpResponseRedirect(
            reverse("admin:findings_source_add", current_app=self.admin_site.name)
            + "?from_lookup=1"
        )

    def _lookup_messages(self, request, result) -> None:
        labels = _labels()
        level = messages.SUCCESS if result.complete else messages.WARNING
        messages.add_message(
            request,
            level,
            f"{result.summary(labels)} Check every field against the paper, then save: "
            "nothing is saved until you do.",
        )
        for notice in result.notices:
            held = notice.kind in HELD_NOTICES
            messages.warning(
                request,
                format_html(
                    "Publisher's notice: {}{}",
                    notice.sentence(),
                    ". Its claims will count nowhere until an editor reviews the notice."
                    if held
                    else ".",
                ),
            )
        for line in [*result.warnings, *result.problems]:
            messages.warning(request, line)
        existing = existing_sources(result.fields)
        if existing:
            messages.warning(
                request,
                format_html(
                    "Maybe already in the knowledge base: {}. Open it instead of adding the "
                    "document again.",
                    format_html_join(
                        "; ",
                        '<a href="{}">{}</a>: {}',
                        ((m.known.admin_url, str(m.known), m.reason) for m in existing),
                    ),
                ),
            )

    def add_view(self, request, form_url="", extra_context=None):
        stash = {}
        if request.method == "GET" and request.GET.get("from_lookup"):
            stash = request.session.pop(SESSION_KEY, None) or {}
        request._source_lookup = stash
        context = {
            **(extra_context or {}),
            "lookup_url": reverse("admin:findings_source_lookup", current_app=self.admin_site.name),
            "lookup_identifier": stash.get("lookup_identifier", ""),
        }
        return super().add_view(request, form_url, extra_context=context)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop("from_lookup", None)
        initial.update(getattr(request, "_source_lookup", {}).get("initial", {}))
        return initial

    # --- an editor's review of a publisher's notice ------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None and obj.notice_held:
            context["notice_review_url"] = reverse(
                "admin:findings_source_notice_review",
                args=[obj.pk],
                current_app=self.admin_site.name,
            )
            context["can_review_notice"] = self.has_review_permission(request)
        return super().change_view(request, object_id, form_url, extra_context=context)

    def notice_review_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        source = self.get_object(request, object_id)
        if source is None:
            raise Http404
        try:
            source_notice_review(
                source=source, user=request.user, note=request.POST.get("notice_review_note", "")
            )
        except ReviewError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Notice reviewed: the published claims citing “{source}” count again.",
            )
        return HttpResponseRedirect(
            reverse(
                "admin:findings_source_change", args=[source.pk], current_app=self.admin_site.name
            )
        )
