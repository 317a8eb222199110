"""Atom feed of newly published, and newly retracted, therapy evidence
(django.contrib.syndication)."""

from django.contrib.sites.shortcuts import get_current_site
from django.contrib.syndication.views import Feed, add_domain
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html

from findings.models import LEVEL_SHORT
from findings.templatetags.reader import citation
from treatments.models import TherapyEvidence

FEED_LENGTH = 50


def first_link(item: TherapyEvidence) -> str:
    """The link the feed gave an item before items had their own address: its pair's
    page, or its therapy's, at its anchor. Kept as the entry's id."""
    if item.abnormality_id:
        url = reverse(
            "treatments:pair-evidence",
            kwargs={"slug": item.therapy.slug, "abnormality_slug": item.abnormality.slug},
        )
    else:
        url = item.therapy.get_absolute_url()
    return f"{url}#evidence-{item.pk}"


class NewEvidenceFeed(Feed):
    feed_type = Atom1Feed
    title = "ME/CFS Immune Knowledge Base: newly published and retracted evidence"
    subtitle = (
        "Sourced claims tying therapies to immune abnormalities in ME/CFS, newest first, "
        "and the claims editors withdrew, with their reasons. Not medical advice."
    )

    def link(self):
        return reverse("treatments:therapy-list")

    def items(self):
        # Queries: one (evidence with therapy, abnormality and source joined).
        # A retraction is an entry of its own, dated when it was retracted, so that
        # subscribers learn of it. Seed records were published without a review date:
        # their creation date stands in.
        return (
            TherapyEvidence.objects.visible()
            .select_related("therapy", "abnormality", "source")
            .annotate(published_at=Coalesce("reviewed_at", "created_at"))
            .order_by("-published_at", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, item):
        about = item.abnormality.name if item.abnormality_id else "ME/CFS in general"
        title = f"{item.therapy.name} — {about}: level {item.level}"
        return f"Retracted: {title}" if item.is_retracted else title

    def item_description(self, item):
        # Atom "html" content: everything from the database is escaped here.
        source = citation(item.source)
        if item.source.retracted:
            source += " (source retracted by its publisher)"
        if item.is_retracted:
            return format_html(
                "<p><strong>Retracted{}:</strong> {}</p><p>The claim was: {}</p>"
                "<p>It no longer counts in any level or total. Source: {}</p>"
                "<p>Not medical advice.</p>",
                # As the pages print it: "Retracted on 3 May 2025".
                f" on {dateformat.format(timezone.localtime(item.reviewed_at), 'j F Y')}"
                if item.reviewed_at
                else "",
                item.review_note or "no reason was recorded.",
                item.statement,
                source,
            )
        # The plain-language summary first, as on the pages (an item published before
        # it existed has none).
        return format_html(
            "{}<p>{}</p><p>Level {} ({}), {}. Source: {}</p><p>Not medical advice.</p>",
            format_html("<p>{}</p>", item.plain_summary) if item.plain_summary else "",
            item.statement,
            item.level,
            LEVEL_SHORT[item.level],
            item.get_direction_display().lower(),
            source,
        )

    def item_link(self, item):
        # The item's own address, which leads to the page that lists it now (a pair's
        # list has pages; a therapy's page shows the strongest few of a group): one
        # fixed link, however later publishing moves the item (treatments/views.py,
        # evidence_view). Retracted items are found there too.
        return reverse("treatments:evidence", args=[item.pk])

    def item_extra_kwargs(self, item):
        return {"retracted": item.is_retracted, "first_link": first_link(item)}

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        domain = get_current_site(request).domain
        for entry in feed.items:
            # The entry's id as it was before items had their own address: subscribers'
            # feed readers keep their entries instead of showing every one as new.
            entry["unique_id"] = add_domain(domain, entry.pop("first_link"), request.is_secure())
            if entry.pop("retracted"):
                # The published entry had the same id: a new one makes feed readers show
                # the retraction as news, not as a quiet edit.
                entry["unique_id"] += "-retracted"
        return feed

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at
