"""Atom feed of data versions: what each one added, revised and retracted
(django.contrib.syndication, like treatments/feeds.py)."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join

from curation.models import DataVersion

FEED_LENGTH = 30
CHANGES_IN_ENTRY = 10


class DataVersionFeed(Feed):
    feed_type = Atom1Feed
    title = "ME/CFS Immune Knowledge Base: changes"
    subtitle = (
        "Each data version of the knowledge base: what it added, revised and retracted, "
        "newest first. Not medical advice."
    )

    def link(self):
        return reverse("curation:changes")

    def items(self):
        # Queries: the newest versions with their counts; their first changes with
        # content types. Links to the records are on each version's page.
        versions = DataVersion.objects.order_by("-number")
        return versions.with_changes(shown=CHANGES_IN_ENTRY)[:FEED_LENGTH]

    def item_title(self, item):
        return f"Data version {item.number}: {item.summary}"

    def item_description(self, item):
        # Atom "html" content: everything from the database is escaped here.
        groups = format_html_join(
            "",
            "<h3>{}</h3><ul>{}</ul>",
            (
                (
                    label,
                    format_html_join(
                        "",
                        "<li>{}: {}{}{}</li>",
                        (
                            (
                                change.record_kind.capitalize(),
                                change.label,
                                format_html(" ({})", ", ".join(change.field_labels))
                                if change.fields
                                else "",
                                format_html(". Why: {}", change.reason) if change.reason else "",
                            )
                            for change in changes
                        ),
                    ),
                )
                for label, changes in item.change_groups()
            ),
        )
        more = item.more_changes
        return format_html(
            "{}{}<p>Not medical advice.</p>",
            groups,
            format_html("<p>And {} more: see the version's page.</p>", more) if more else "",
        )

    def item_link(self, item):
        return item.get_absolute_url()

    def item_pubdate(self, item):
        return item.created_at
