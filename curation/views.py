"""``/changes/``: what each data version added, revised and retracted, newest first.

Generic over content types, so it lives on the ground floor: a change links to its
record's public page through the record's own ``get_absolute_url`` and
``.published()``, whatever app the record belongs to (curation/versions.py)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, When
from django.shortcuts import get_object_or_404
from django.views.generic import ListView

from curation.models import DataChangeAction, DataVersion, changes_grouped
from curation.pages import CheckedPageMixin
from curation.versions import data_changes_link


class ChangeListView(CheckedPageMixin, ListView):
    """Every data version, newest first, with what it changed."""

    template_name = "curation/change_list.html"
    context_object_name = "versions"
    paginate_by = 20
    # Queries: count of versions; the page of versions with their per-action counts;
    # their first changes with content types; one per kind of record linked.

    def get_queryset(self):
        return DataVersion.objects.order_by("-number").with_changes()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data_changes_link(
            change for version in context["versions"] for change in version.shown_changes
        )
        return context


class VersionDetailView(CheckedPageMixin, ListView):
    """One data version with all its changes, a page at a time."""

    template_name = "curation/version_detail.html"
    context_object_name = "changes"
    paginate_by = 100
    # Queries: the version; count of its changes; the page of changes with content
    # types; one per kind of record linked.

    def get_queryset(self):
        self.version = get_object_or_404(DataVersion, number=self.kwargs["number"])
        # Added, revised, retracted: the order the page groups them in, across pages too.
        group = Case(
            *(When(action=action, then=i) for i, action in enumerate(DataChangeAction)),
            output_field=IntegerField(),
        )
        return self.version.changes.select_related("content_type").order_by(group, "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data_changes_link(context["changes"])
        context["version"] = self.version
        context["groups"] = changes_grouped(context["changes"])
        return context
